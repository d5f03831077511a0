#!/usr/bin/env bash
# forward: TCP between two veth subnets through a router namespace whose
# flowtable holds both router devices. After a few MB the flow is [OFFLOAD]
# in conntrack, and the forward chain's counter (a rule after `flow add`)
# saw only the packets before offload: far fewer bytes than transferred (the
# criterion of the kernel's nft_flowtable.sh selftest). Then the same for a
# UDP exchange, and for TCP over IPv6.
source "$(dirname "$0")/../lib.sh"

fw_topology
fw_ruleset /tmp/forward.nft
if load_ruleset fw-r /tmp/forward.nft; then
	pass "ruleset with flowtable on r0, r1 loaded"
else
	fail "ruleset refused: $(cat "$LOAD_OUT")"
	finish
fi
expect_fw_offloaded 5001 $((4 * 1024 * 1024)) $((1024 * 1024))

# UDP through the same flowtable: 300 datagrams each way, ping-pong. Once
# the reply is seen the flow is offloaded and the rest skip the chain.
read -r p0 _ < <(counter_of fw-r inet nftflow_fwd forward)
count=300
inspect_udp() {
	local ct
	ct=$(offloaded_tuples fw-r 5003 udp)
	if [ -n "$ct" ]; then
		pass "conntrack -L shows the UDP flow to port 5003 as [OFFLOAD] ($ct)"
	else
		fail "conntrack -L shows no [OFFLOAD] UDP flow to port 5003: $(ns fw-r conntrack -L -p udp 2>/dev/null | tr '\n' '|')"
	fi
}
if udp_exchange fw-c fw-s 10.71.2.2 5003 "$count" 1000 inspect_udp; then
	pass "UDP: $count datagrams of 1000 bytes echoed through the router"
else
	fail "UDP exchange through the router"
fi
read -r p1 _ < <(counter_of fw-r inet nftflow_fwd forward)
upkts=$((p1 - p0))
note "UDP: forward chain counter +$upkts packets for $((2 * count)) datagrams"
if [ "$upkts" -le 20 ]; then
	pass "UDP: forward chain saw $upkts of $((2 * count)) packets: the flowtable carried the rest"
else
	fail "UDP: forward chain saw $upkts of $((2 * count)) packets, want <= 20"
fi

# The same TCP transfer over IPv6 through the inet flowtable.
CT_FAMILY=ipv6 expect_fw_offloaded 5004 $((4 * 1024 * 1024)) $((1024 * 1024)) fd71:2::2
finish
