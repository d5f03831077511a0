#!/usr/bin/env bash
# forward: TCP between two veth subnets through a router namespace whose
# flowtable holds both router devices. After a few MB the flow is [OFFLOAD]
# in conntrack, and the forward chain's counter (a rule after `flow add`)
# saw only the packets before offload: far fewer bytes than transferred (the
# criterion of the kernel's nft_flowtable.sh selftest).
source "$(dirname "$0")/../lib.sh"

netns_add fw-c
netns_add fw-r
netns_add fw-s
ip link add r0 netns fw-r type veth peer name c0 netns fw-c
ip link add r1 netns fw-r type veth peer name s0 netns fw-s
ns fw-r ip addr add 10.71.1.1/24 dev r0
ns fw-r ip addr add 10.71.2.1/24 dev r1
ns fw-c ip addr add 10.71.1.2/24 dev c0
ns fw-s ip addr add 10.71.2.2/24 dev s0
for l in fw-r:r0 fw-r:r1 fw-c:c0 fw-s:s0; do ns "${l%%:*}" ip link set "${l#*:}" up; done
ns fw-c ip route add default via 10.71.1.1
ns fw-s ip route add default via 10.71.2.1
ns fw-r sysctl -qw net.ipv4.ip_forward=1

rules=/tmp/forward.nft
cat >"$rules" <<'NFT'
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
if load_ruleset fw-r "$rules"; then
	pass "ruleset with flowtable on r0, r1 loaded"
else
	fail "ruleset refused: $(cat "$LOAD_OUT")"
	finish
fi

up=$((4 * 1024 * 1024))
down=$((1024 * 1024))
inspect() { check_offloaded fw-r 5001; }
if transfer fw-c fw-s 10.71.2.2 5001 "$up" "$down" inspect; then
	pass "TCP transfer of $up bytes up, $down down through the router"
else
	fail "TCP transfer through the router"
fi
read -r pkts bytes < <(counter_of fw-r inet nftflow_fwd forward)
total=$((up + down))
note "forward chain counter: $pkts packets, $bytes bytes, for $total bytes transferred"
if [ "$bytes" -gt 0 ] && [ "$bytes" -lt $((total / 10)) ]; then
	pass "forward chain saw $pkts packets / $bytes bytes of $total (< 10%): the flowtable carried the rest"
else
	fail "forward chain saw $pkts packets / $bytes bytes of $total: not offloaded"
fi
finish
