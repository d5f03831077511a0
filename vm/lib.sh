# shellcheck shell=bash
# lib.sh: helpers for the VM scenarios (sourced by vm/scenarios/*.sh, which
# run as root inside the test VM, in a chroot of the host's root).
#
# Every check prints one line the host harness counts:
#   PASS [KERNEL] SCENARIO: what held
#   FAIL [KERNEL] SCENARIO: what did not, with the figures
#   SKIP [KERNEL] SCENARIO: what was not checked and why
# A scenario exits 1 when one of its checks failed.

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KVER=${NFTFLOW_VM_KERNEL:-$(uname -r)}
SCENARIO=${SCENARIO:-$(basename "$0" .sh)}
NFTFLOW_BIN=${NFTFLOW_BIN:-$VM_DIR/../bin/nftflow}
PY=/usr/bin/python3
failures=0
NETNS_CREATED=()

pass() { echo "PASS [$KVER] $SCENARIO: $*"; }
fail() {
	echo "FAIL [$KVER] $SCENARIO: $*"
	failures=$((failures + 1))
}
skip() { echo "SKIP [$KVER] $SCENARIO: $*"; }
note() { echo "  note [$KVER] $SCENARIO: $*"; }

# check DESC CMD...: PASS when CMD succeeds, FAIL otherwise.
check() {
	local desc=$1
	shift
	if "$@"; then pass "$desc"; else fail "$desc"; fi
}

# kernel_at_least MAJOR MINOR: whether the running kernel is that or newer.
kernel_at_least() {
	local maj min
	maj=${KVER%%.*}
	min=${KVER#*.}
	min=${min%%[.+-]*}
	[ "$maj" -gt "$1" ] || { [ "$maj" -eq "$1" ] && [ "$min" -ge "$2" ]; }
}

# finish: the scenario's exit status.
finish() {
	cleanup_netns
	if [ "$failures" -gt 0 ]; then exit 1; fi
	exit 0
}

netns_add() {
	ip netns add "$1" && NETNS_CREATED+=("$1")
	ip -n "$1" link set lo up
}

cleanup_netns() {
	local n
	for n in "${NETNS_CREATED[@]-}"; do
		[ -n "$n" ] && ip netns del "$n" 2>/dev/null
	done
	NETNS_CREATED=()
}

ns() {
	local n=$1
	shift
	ip netns exec "$n" "$@"
}

# have_nftflow SUBCOMMAND...: whether bin/nftflow has that command. (Cobra
# shows a parent's help for an unknown subcommand, so the usage line must
# name the whole command.)
have_nftflow() {
	local out
	[ -x "$NFTFLOW_BIN" ] || return 1
	out=$("$NFTFLOW_BIN" "$@" --help 2>&1) || return 1
	grep -qF "nftflow $*" <<<"$out"
}

# load_ruleset NETNS FILE: loads FILE with `nftflow apply` when the binary has
# it, with `nft -f` otherwise; prints which. Output goes to $LOAD_OUT.
LOAD_OUT=/tmp/load.out
load_ruleset() {
	local n=$1 f=$2
	if have_nftflow apply; then
		note "loading $(basename "$f") with nftflow apply"
		ns "$n" "$NFTFLOW_BIN" apply "$f" >"$LOAD_OUT" 2>&1
	else
		note "loading $(basename "$f") with nft -f (nftflow apply not available)"
		ns "$n" nft -f "$f" >"$LOAD_OUT" 2>&1
	fi
}

# counter_of NETNS FAMILY TABLE CHAIN: "PACKETS BYTES", summed over the
# anonymous counters of that chain.
counter_of() {
	ns "$1" nft list chain "$2" "$3" "$4" |
		awk '{for (i = 1; i < NF; i++) { if ($i == "packets") p += $(i+1); if ($i == "bytes") b += $(i+1) }} END {print p+0, b+0}'
}

# offloaded_tuples NETNS PORT [PROTO]: the tuples (see tuples_of) of the
# conntrack entries to PORT (tcp unless PROTO; IPv4 unless CT_FAMILY=ipv6)
# that carry [OFFLOAD], as conntrack -L shows them, sorted.
offloaded_tuples() {
	ns "$1" conntrack -L -f "${CT_FAMILY:-ipv4}" -p "${3:-tcp}" --dport "$2" 2>/dev/null | grep -F '[OFFLOAD]' | tuples_of
}

# tuples_of: reads conntrack -L style lines, prints the src= dst= sport=
# dport= fields of each (original then reply tuple, so NAT shows), sorted.
tuples_of() {
	awk '{t = ""; for (i = 1; i <= NF; i++) if ($i ~ /^(src|dst|sport|dport)=/) t = t (t == "" ? "" : " ") $i
		if (t != "") print t}' | sort
}

# check_offloaded NETNS PORT: asserts conntrack shows the flow to PORT as
# [OFFLOAD], and that `nftflow list flows --offloaded -o conntrack` agrees
# when that command exists.
check_offloaded() {
	local n=$1 port=$2 ct nf
	ct=$(offloaded_tuples "$n" "$port")
	if [ -n "$ct" ]; then
		pass "conntrack -L shows the flow to port $port as [OFFLOAD] ($ct)"
	else
		fail "conntrack -L shows no [OFFLOAD] flow to port $port; entries: $(ns "$n" conntrack -L -f "${CT_FAMILY:-ipv4}" 2>/dev/null | tr '\n' '|')"
	fi
	[ -n "$ct" ] && compare_flows "$n" "$port" "$ct"
}

# compare_flows NETNS PORT TUPLES: when `nftflow list flows` exists, asserts
# its --offloaded -o conntrack output names the same flows to PORT as
# TUPLES (from offloaded_tuples; may be empty: then nftflow must list none),
# and that its lines equal conntrack -L's for them, but for the packet and
# byte counters, which move between the two reads.
compare_flows() {
	local n=$1 port=$2 ct=$3 nf nfl ctl
	if ! have_nftflow list flows; then
		skip "nftflow list flows not available; checked with conntrack -L only"
		return
	fi
	nfl=$(ns "$n" "$NFTFLOW_BIN" list flows --offloaded -o conntrack 2>/dev/null | grep -E "dport=$port( |$)")
	nf=$(tuples_of <<<"$nfl")
	if [ "$nf" = "$ct" ]; then
		pass "nftflow list flows --offloaded agrees with conntrack -L on port $port (${ct:-no flow})"
	else
		fail "nftflow list flows --offloaded gave '$nf', conntrack -L '$ct' (port $port)"
	fi
	[ -n "$ct" ] || return 0
	ctl=$(ns "$n" conntrack -L -f "${CT_FAMILY:-ipv4}" 2>/dev/null | grep -E "dport=$port( |$)" | grep -F 'OFFLOAD]')
	mask() { sed -E 's/ (packets|bytes)=[0-9]+//g' | sort; }
	if [ "$(mask <<<"$nfl")" = "$(mask <<<"$ctl")" ]; then
		pass "nftflow list flows -o conntrack prints conntrack -L's line for port $port: $(head -1 <<<"$nfl")"
	else
		fail "nftflow list flows -o conntrack line differs from conntrack -L: '$nfl' vs '$ctl'"
	fi
}

# transfer CLIENT_NS SERVER_NS SERVER_ADDR PORT UP DOWN [INSPECT_FN]: runs a
# TCP transfer of UP bytes client->server and DOWN bytes back; while the
# connection is still open, calls INSPECT_FN (if given). Returns non-zero
# when the transfer failed.
transfer() {
	local cns=$1 sns=$2 addr=$3 port=$4 up=$5 down=$6 inspect=${7:-}
	local hold=/tmp/hold.$port ready=/tmp/ready.$port rc=0
	rm -f "$ready" /tmp/serve.$port /tmp/send.$port
	TCP_READY_FILE=$ready ns "$sns" "$PY" "$VM_DIR/tcp.py" serve "$addr" "$port" >/tmp/serve.$port 2>&1 &
	local spid=$!
	for _ in $(seq 100); do [ -e "$ready" ] && break; sleep 0.1; done
	touch "$hold"
	ns "$cns" "$PY" "$VM_DIR/tcp.py" send "$addr" "$port" "$up" "$down" "$hold" >/tmp/send.$port 2>&1 &
	local cpid=$!
	for _ in $(seq 600); do
		grep -q transferred /tmp/send.$port 2>/dev/null && break
		kill -0 "$cpid" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q "transferred up=$up down=$down" /tmp/send.$port; then
		rc=1
	elif [ -n "$inspect" ]; then
		"$inspect"
	fi
	rm -f "$hold"
	wait "$cpid" || rc=1
	wait "$spid" || rc=1
	if [ $rc -ne 0 ]; then
		note "transfer to $addr:$port failed: send: $(tr '\n' ' ' </tmp/send.$port) serve: $(tr '\n' ' ' </tmp/serve.$port)"
	fi
	return $rc
}

# fw_topology: the forward topology: namespaces fw-c (10.71.1.2,
# fd71:1::2) and fw-s (10.71.2.2, fd71:2::2) on two veth subnets, fw-r
# routing between them on r0 (10.71.1.1, fd71:1::1) and r1 (10.71.2.1,
# fd71:2::1). With "links" only, the namespaces must
# exist already (netns_add) and only the veth pairs and addresses are made.
fw_topology() {
	if [ "${1:-}" != links ]; then
		netns_add fw-c
		netns_add fw-r
		netns_add fw-s
		ns fw-r sysctl -qw net.ipv4.ip_forward=1
		ns fw-r sysctl -qw net.ipv6.conf.all.forwarding=1
	fi
	ip link add r0 netns fw-r type veth peer name c0 netns fw-c
	ip link add r1 netns fw-r type veth peer name s0 netns fw-s
	ns fw-r ip addr add 10.71.1.1/24 dev r0
	ns fw-r ip addr add 10.71.2.1/24 dev r1
	ns fw-c ip addr add 10.71.1.2/24 dev c0
	ns fw-s ip addr add 10.71.2.2/24 dev s0
	local l
	for l in fw-r:r0 fw-r:r1 fw-c:c0 fw-s:s0; do ns "${l%%:*}" ip link set "${l#*:}" up; done
	ns fw-c ip route add default via 10.71.1.1
	ns fw-s ip route add default via 10.71.2.1
	ns fw-r ip -6 addr add fd71:1::1/64 dev r0 nodad
	ns fw-r ip -6 addr add fd71:2::1/64 dev r1 nodad
	ns fw-c ip -6 addr add fd71:1::2/64 dev c0 nodad
	ns fw-s ip -6 addr add fd71:2::2/64 dev s0 nodad
	ns fw-c ip -6 route add default via fd71:1::1
	ns fw-s ip -6 route add default via fd71:2::1
}

# fw_ruleset FILE: the forward scenario's ruleset: flowtable on r0 and r1,
# flow add for TCP and UDP, then a counter that sees the slow path.
fw_ruleset() {
	cat >"$1" <<'NFT'
table inet nftflow_fwd {
	flowtable ft {
		hook ingress priority filter
		devices = { "r0", "r1" }
	}

	chain forward {
		type filter hook forward priority filter; policy accept;
		meta l4proto { tcp, udp } flow add @ft
		counter
	}
}
NFT
}

# expect_fw_offloaded PORT UP DOWN [ADDR]: runs a transfer from fw-c to fw-s
# (ADDR, 10.71.2.2 unless given), asserts the flow is offloaded while open
# and the forward chain counter grew by under 10 % of the bytes.
expect_fw_offloaded() {
	local port=$1 up=$2 down=$3 addr=${4:-10.71.2.2} pkts bytes total p0 b0
	read -r p0 b0 < <(counter_of fw-r inet nftflow_fwd forward)
	inspect() { check_offloaded fw-r "$port"; }
	if transfer fw-c fw-s "$addr" "$port" "$up" "$down" inspect; then
		pass "TCP transfer to $addr of $up bytes up, $down down through the router"
	else
		fail "TCP transfer to $addr through the router"
	fi
	read -r pkts bytes < <(counter_of fw-r inet nftflow_fwd forward)
	pkts=$((pkts - p0))
	bytes=$((bytes - b0))
	total=$((up + down))
	note "forward chain counter: $pkts packets, $bytes bytes, for $total bytes transferred"
	if [ "$bytes" -gt 0 ] && [ "$bytes" -lt $((total / 10)) ]; then
		pass "forward chain saw $pkts packets / $bytes bytes of $total (< 10%): the flowtable carried the rest"
	else
		fail "forward chain saw $pkts packets / $bytes bytes of $total: not offloaded"
	fi
}

# udp_exchange CLIENT_NS SERVER_NS ADDR PORT COUNT SIZE [INSPECT_FN]: COUNT
# datagrams of SIZE bytes, each echoed; INSPECT_FN runs while the flow is
# still in use. Returns non-zero when an echo was missing.
udp_exchange() {
	local cns=$1 sns=$2 addr=$3 port=$4 count=$5 size=$6 inspect=${7:-}
	local hold=/tmp/hold.u$port ready=/tmp/ready.u$port rc=0 spid cpid
	rm -f "$ready" /tmp/userve.$port /tmp/usend.$port
	TCP_READY_FILE=$ready ns "$sns" "$PY" "$VM_DIR/tcp.py" udp-serve "$addr" "$port" >/tmp/userve.$port 2>&1 &
	spid=$!
	for _ in $(seq 100); do [ -e "$ready" ] && break; sleep 0.1; done
	touch "$hold"
	ns "$cns" "$PY" "$VM_DIR/tcp.py" udp-send "$addr" "$port" "$count" "$size" "$hold" >/tmp/usend.$port 2>&1 &
	cpid=$!
	for _ in $(seq 600); do
		grep -q 'udp sent' /tmp/usend.$port 2>/dev/null && break
		kill -0 "$cpid" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q "udp sent=$count echoed=$count" /tmp/usend.$port; then
		rc=1
	elif [ -n "$inspect" ]; then
		"$inspect"
	fi
	rm -f "$hold"
	wait "$cpid" || rc=1
	wait "$spid" || rc=1
	if [ $rc -ne 0 ]; then
		note "UDP exchange with $addr:$port failed: send: $(tr '\n' ' ' </tmp/usend.$port) serve: $(tr '\n' ' ' </tmp/userve.$port)"
	fi
	return $rc
}
