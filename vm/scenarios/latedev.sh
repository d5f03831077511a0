#!/usr/bin/env bash
# latedev: a flowtable loaded before its devices exist (a router's ruleset
# loaded at boot, before the interfaces come up). From 6.16 the kernel
# accepts the names and hooks the devices when they appear: the forward
# scenario's traffic is then offloaded as usual. Before 6.16 the load is
# refused with ENOENT (asserted in the failures scenario), so this one only
# asserts the refusal.
source "$(dirname "$0")/../lib.sh"

netns_add fw-c
netns_add fw-r
netns_add fw-s
ns fw-r sysctl -qw net.ipv4.ip_forward=1
fw_ruleset /tmp/latedev.nft
if ! kernel_at_least 6 16; then
	if load_ruleset fw-r /tmp/latedev.nft; then
		fail "flowtable on devices not yet created accepted on < 6.16"
	else
		pass "flowtable on devices not yet created refused on < 6.16: $(head -1 "$LOAD_OUT")"
	fi
	finish
fi
# From 6.16 nftflow apply sends a flowtable whose devices do not exist yet
# (its preflight warns), as the kernel hooks them when they appear.
if have_nftflow apply; then
	ns fw-r "$NFTFLOW_BIN" apply /tmp/latedev.nft >"$LOAD_OUT" 2>&1
	rc=$?
	note "loaded latedev.nft with nftflow apply: $(tr '\n' ' ' <"$LOAD_OUT" | head -c 300)"
else
	ns fw-r nft -f /tmp/latedev.nft >"$LOAD_OUT" 2>&1
	rc=$?
	note "loaded latedev.nft with nft -f (no nftflow apply)"
fi
if [ $rc -eq 0 ]; then
	pass "flowtable on r0, r1 loaded before the devices exist"
else
	fail "flowtable on devices not yet created refused: $(cat "$LOAD_OUT")"
	finish
fi
fw_topology links
expect_fw_offloaded 5002 $((4 * 1024 * 1024)) $((1024 * 1024))
finish
