#!/usr/bin/env bash
# ipip: the seed's IPIP gateway (examples/ipip-gateway.nft): LAN on eth0,
# tun0 an ipip tunnel over eth1 to a remote peer, default route through the
# tunnel, masquerade on tun0. TCP with data in both directions, once with the
# flowtable on { eth0, eth1 } and once on { eth0, tun0 }; the forward chain's
# counter (right after `flow add`) tells what the flowtable carried.
#
# Kernels >= 6.19 accelerate IPIP: the flow's tunnel side is the underlay
# eth1, so { eth0, eth1 } offloads and { eth0, tun0 } offloads nothing
# (the flow is never added). Older kernels treat tun0 as a plain device:
# { eth0, tun0 } offloads, { eth0, eth1 } offloads only the LAN side, and the
# encapsulated replies on eth1 all take the slow path.
source "$(dirname "$0")/../lib.sh"

netns_add ip-lan
netns_add ip-r
netns_add ip-peer
ip link add eth0 netns ip-r type veth peer name lan0 netns ip-lan
ip link add eth1 netns ip-r type veth peer name wan0 netns ip-peer
ns ip-lan ip addr add 192.168.0.2/24 dev lan0
ns ip-lan ip link set lan0 up
ns ip-lan ip route add default via 192.168.0.1
ns ip-r ip addr add 192.168.0.1/24 dev eth0
ns ip-r ip addr add 192.168.1.1/24 dev eth1
ns ip-r ip link set eth0 up
ns ip-r ip link set eth1 up
ns ip-r ip link add tun0 type ipip local 192.168.1.1 remote 192.168.1.2 dev eth1
ns ip-r ip addr add 10.0.0.1/30 dev tun0
ns ip-r ip link set tun0 up
ns ip-r ip route add default dev tun0
ns ip-r sysctl -qw net.ipv4.ip_forward=1
ns ip-peer ip addr add 192.168.1.2/24 dev wan0
ns ip-peer ip link set wan0 up
ns ip-peer ip link add tun0 type ipip local 192.168.1.2 remote 192.168.1.1 dev wan0
ns ip-peer ip addr add 10.0.0.2/30 dev tun0
ns ip-peer ip link set tun0 up
# The "internet" host behind the peer.
ns ip-peer ip addr add 198.51.100.1/32 dev lo

ruleset() {
	cat <<NFT
table inet filter {
	flowtable ft {
		hook ingress priority filter
		devices = { $1 }
	}

	chain forward {
		type filter hook forward priority filter; policy drop;
		meta l4proto { tcp, udp } flow add @ft
		counter
		ct state established,related accept
		iifname "eth0" oifname "tun0" ip saddr 192.168.0.0/24 accept
	}
}
table ip nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "tun0" ip saddr 192.168.0.0/24 masquerade
	}
}
NFT
}

up=$((1024 * 1024))
down=$((1024 * 1024))
total=$((up + down))
new=
if kernel_at_least 6 19; then new=1; fi

# run DEVICES PORT: loads the ruleset with the flowtable on DEVICES, runs the
# transfer, and sets PKTS, BYTES (forward chain counter) and OFFLOADED (the
# conntrack tuples marked [OFFLOAD] while the connection was open).
run() {
	local devs=$1 port=$2 label
	label="{ $devs }"
	ns ip-r nft flush ruleset
	ns ip-r conntrack -F 2>/dev/null
	ruleset "$devs" >/tmp/ipip.nft
	if load_ruleset ip-r /tmp/ipip.nft; then
		pass "ruleset with flowtable $label loaded"
	else
		fail "ruleset with flowtable $label refused: $(cat "$LOAD_OUT")"
		return 1
	fi
	OFFLOADED= LISTED=
	inspect() {
		OFFLOADED=$(offloaded_tuples ip-r "$port")
		compare_flows ip-r "$port" "$OFFLOADED"
		if have_nftflow list flows; then
			LISTED=$("$NFTFLOW_BIN" list flows --netns ip-r 2>&1)
		fi
	}
	if transfer ip-lan ip-peer 198.51.100.1 "$port" "$up" "$down" inspect; then
		pass "$label: TCP through the tunnel, $up bytes up and $down down"
	else
		fail "$label: TCP through the tunnel"
	fi
	read -r PKTS BYTES < <(counter_of ip-r inet filter forward)
	note "$label: forward chain counter $PKTS packets, $BYTES bytes, for $total bytes transferred; offloaded: ${OFFLOADED:-none}"
}

# expect_slow_path LABEL PORT WANT: `nftflow list flows --netns ip-r` (the
# table, read while the connection was open) notes the flow to PORT as
# "slow path: WANT" and says so in the summary; with WANT empty, it notes
# no slow path at all.
expect_slow_path() {
	local label=$1 port=$2 want=$3 row what
	if ! have_nftflow list flows; then
		skip "$label: nftflow list flows not available"
		return
	fi
	row=$(grep -E " $port +-? " <<<"$LISTED" | grep -F OFFLOAD)
	if [ -z "$want" ]; then
		if grep -qF "slow path" <<<"$LISTED"; then
			fail "$label: nftflow list flows notes a slow path: $(tr '\n' '|' <<<"$LISTED")"
		else
			if [ -n "$row" ]; then what="offloaded flow listed without a note"; else what="no offloaded flow"; fi
			pass "$label: nftflow list flows notes no slow path ($what)"
		fi
		return
	fi
	if grep -qF "slow path: $want" <<<"$row" && grep -qF "offloaded flow has a direction on the slow path: ${want%%,*}" <<<"$LISTED"; then
		pass "$label: nftflow list flows names the slow path: $(grep -F 'has a direction on the slow path' <<<"$LISTED")"
		note "$label: flow row: $row"
	else
		fail "$label: nftflow list flows does not note 'slow path: $want': $(tr '\n' '|' <<<"$LISTED")"
	fi
}

# expect_warning LABEL CODE: the apply that loaded the ruleset (its
# preflight) and `nftflow lint --system` both warn with CODE about the
# device list, or, with CODE empty, say nothing about the flowtable devices.
expect_warning() {
	local label=$1 code=$2 lint
	if ! have_nftflow apply; then
		skip "$label: nftflow apply not available"
		return
	fi
	lint=$(ns ip-r "$NFTFLOW_BIN" lint --system /tmp/ipip.nft 2>&1)
	for what in "apply preflight" "lint --system"; do
		local out=$lint
		[ "$what" = "apply preflight" ] && out=$(cat "$LOAD_OUT")
		if [ -z "$code" ]; then
			if grep -qE '\[NF22[0-9]\]' <<<"$out"; then
				fail "$label: $what warns about a right device list: $(tr '\n' '|' <<<"$out")"
			else
				pass "$label: $what has nothing to say about the device list"
			fi
		elif grep -qF "[$code]" <<<"$out" && grep -qF 'suggestion: devices = {' <<<"$out"; then
			pass "$label: $what warns [$code]: $(grep -F "[$code]" <<<"$out" | head -1 | sed 's/^[^ ]* //')"
		else
			fail "$label: $what does not warn [$code] with a corrected devices line: $(tr '\n' '|' <<<"$out")"
		fi
	done
}

# The flow offloaded: a handful of packets in the forward chain.
expect_offloaded() {
	if [ -n "$OFFLOADED" ]; then pass "$1: flow is [OFFLOAD] in conntrack"; else fail "$1: flow not [OFFLOAD] in conntrack"; fi
	if [ "$PKTS" -le 20 ]; then
		pass "$1: only $PKTS packets ($BYTES bytes) through the forward chain"
	else
		fail "$1: $PKTS packets ($BYTES bytes) through the forward chain, want <= 20"
	fi
}

run "eth0, eth1" 5101
if [ -n "$new" ]; then
	expect_warning "{ eth0, eth1 } on >= 6.19" ""
else
	expect_warning "{ eth0, eth1 } on < 6.19" NF224
fi
if [ -n "$new" ]; then
	expect_offloaded "{ eth0, eth1 } on >= 6.19"
else
	if [ -n "$OFFLOADED" ]; then pass "{ eth0, eth1 } on < 6.19: flow is [OFFLOAD] (LAN side)"; else fail "{ eth0, eth1 } on < 6.19: flow not [OFFLOAD]"; fi
	# The replies come in encapsulated on eth1, which no hook of the flowtable
	# decapsulates: every one takes the slow path, the LAN side does not.
	# (The packet count varies from run to run with GRO, 68 to 192 seen;
	# the bytes are the reply direction's.)
	if [ "$BYTES" -ge "$down" ] && [ "$BYTES" -lt $((down + up / 4)) ]; then
		pass "{ eth0, eth1 } on < 6.19: $PKTS packets ($BYTES bytes) through the forward chain: the $down bytes of encapsulated replies, not the LAN side"
	else
		fail "{ eth0, eth1 } on < 6.19: $PKTS packets ($BYTES bytes) through the forward chain, want the reply direction's $down bytes and < $((up / 4)) more"
	fi
fi
if [ -n "$new" ]; then
	expect_slow_path "{ eth0, eth1 } on >= 6.19" 5101 ""
else
	# [OFFLOAD] in conntrack, yet the replies take the slow path: say so.
	expect_slow_path "{ eth0, eth1 } on < 6.19" 5101 "reply enters via tun0, needs tun0"
fi

run "eth0, tun0" 5102
if [ -n "$new" ]; then
	expect_warning "{ eth0, tun0 } on >= 6.19" NF223
else
	expect_warning "{ eth0, tun0 } on < 6.19" ""
fi
if [ -n "$new" ]; then
	if [ -z "$OFFLOADED" ]; then pass "{ eth0, tun0 } on >= 6.19: no flow offloaded (tun0 is not the flow's device)"; else fail "{ eth0, tun0 } on >= 6.19: flow [OFFLOAD] ($OFFLOADED)"; fi
	if [ "$BYTES" -ge "$total" ]; then
		pass "{ eth0, tun0 } on >= 6.19: all $BYTES bytes ($PKTS packets) through the forward chain"
	else
		fail "{ eth0, tun0 } on >= 6.19: $BYTES bytes ($PKTS packets) through the forward chain, want >= $total"
	fi
else
	expect_offloaded "{ eth0, tun0 } on < 6.19"
fi
if [ -n "$new" ] && [ -n "$OFFLOADED" ]; then
	# Only if the kernel offloaded it anyway (a kernel that falls back to the
	# routed device would catch the replies on tun0): nothing to note then
	# on 6.19, a slow reply on >= 7.0.
	if kernel_at_least 7 0; then
		expect_slow_path "{ eth0, tun0 } on >= 7.0" 5102 "reply enters via tun0, needs eth1"
	else
		expect_slow_path "{ eth0, tun0 } on 6.19" 5102 ""
	fi
else
	# >= 6.19 offloads no flow with this list (nothing marked [OFFLOAD], so
	# nothing to check); < 6.19 catches both directions.
	expect_slow_path "{ eth0, tun0 }" 5102 ""
fi

# nftflow's own answer to "which devices belong in the flowtable".
if have_nftflow flowtable devices; then
	out=$(ns ip-r "$NFTFLOW_BIN" flowtable devices eth0 tun0 2>&1)
	if [ -n "$new" ]; then want="eth0, eth1"; else want="eth0, tun0"; fi
	if [ "$(head -1 <<<"$out")" = "$want" ]; then
		pass "nftflow flowtable devices eth0 tun0 says '$want'"
	else
		fail "nftflow flowtable devices eth0 tun0 said '$out', want '$want'"
	fi
	out=$("$NFTFLOW_BIN" flowtable devices --netns ip-r eth0 tun0 2>&1)
	if [ "$(head -1 <<<"$out")" = "$want" ]; then
		pass "nftflow flowtable devices --netns ip-r eth0 tun0 says '$want'"
	else
		fail "nftflow flowtable devices --netns ip-r eth0 tun0 said '$out', want '$want'"
	fi
else
	skip "nftflow flowtable devices not available"
fi
finish
