#!/usr/bin/env bash
# forward: TCP between two veth subnets through a router namespace whose
# flowtable holds both router devices. After a few MB the flow is [OFFLOAD]
# in conntrack, and the forward chain's counter (a rule after `flow add`)
# saw only the packets before offload: far fewer bytes than transferred (the
# criterion of the kernel's nft_flowtable.sh selftest).
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
finish
