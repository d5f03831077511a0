#!/usr/bin/env bash
# failures: what the kernel refuses, and that a refused load leaves the
# ruleset as it was.
#  - `flags offload` (hardware offload) on veth: EOPNOTSUPP on every kernel.
#  - a flowtable device that does not exist: ENOENT before 6.16; from 6.16 on
#    the kernel accepts the name and lists it.
source "$(dirname "$0")/../lib.sh"

netns_add fl-r
ip -n fl-r link add v0 type veth peer name v1
ip -n fl-r link set v0 up
ip -n fl-r link set v1 up

# A ruleset already in place, which a refused load must not disturb.
cat >/tmp/base.nft <<'NFT'
table inet keep {
	chain forward {
		type filter hook forward priority filter; policy accept;
		ct state established,related accept
	}
}
NFT
ns fl-r nft -f /tmp/base.nft
before=$(ns fl-r nft list ruleset)

cat >/tmp/hwoffload.nft <<'NFT'
table inet keep {
	chain forward {
		type filter hook forward priority filter; policy accept;
		ct state invalid drop
	}
}
table inet hw {
	flowtable ft {
		hook ingress priority filter
		devices = { "v0", "v1" }
		flags offload
	}
}
NFT

# expect_refused WHAT REGEX TOOL...: runs the load, asserts it failed with a
# message matching REGEX and changed nothing.
expect_refused() {
	local what=$1 want=$2 out rc
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	note "$what: exit $rc: $(head -c 300 <<<"$out" | tr '\n' ' ')"
	if [ $rc -ne 0 ] && grep -qiE "$want" <<<"$out"; then
		pass "$what refused with /$want/"
	else
		fail "$what: exit $rc, output '$out', want a failure matching /$want/"
	fi
	if [ "$(ns fl-r nft list ruleset)" = "$before" ]; then
		pass "$what: ruleset unchanged after the failure"
	else
		fail "$what: ruleset changed after the failure: $(ns fl-r nft list ruleset | tr '\n' ' ')"
	fi
}

expect_refused "nft -f: flags offload on veth" "not supported" ns fl-r nft -f /tmp/hwoffload.nft
if have_nftflow apply; then
	expect_refused "nftflow apply: flags offload on veth" "not supported|EOPNOTSUPP" ns fl-r "$NFTFLOW_BIN" apply /tmp/hwoffload.nft
else
	skip "nftflow apply not available: its message for EOPNOTSUPP not checked"
fi

cat >/tmp/nodev.nft <<'NFT'
table inet nodev {
	flowtable ft {
		hook ingress priority filter
		devices = { "v0", "nosuch0" }
	}
}
NFT
# check_missing_device WHAT TOOL...: the kernel >= 6.16 accepts; older
# refuse with ENOENT.
check_missing_device() {
	local what=$1 out rc
	shift
	ns fl-r nft delete table inet nodev 2>/dev/null
	before=$(ns fl-r nft list ruleset)
	if kernel_at_least 6 16; then
		out=$("$@" 2>&1)
		rc=$?
		if [ $rc -eq 0 ] && ns fl-r nft list flowtable inet nodev ft >/dev/null 2>&1; then
			pass "$what: flowtable on a missing device accepted (>= 6.16): $(ns fl-r nft list flowtable inet nodev ft | grep devices | tr -s '\t ' ' ')"
		else
			fail "$what: flowtable on a missing device: exit $rc, '$out', want it accepted on >= 6.16"
		fi
	else
		expect_refused "$what: flowtable on a missing device" "No such file or directory|ENOENT" "$@"
	fi
}
check_missing_device "nft -f" ns fl-r nft -f /tmp/nodev.nft
if have_nftflow apply; then
	check_missing_device "nftflow apply" ns fl-r "$NFTFLOW_BIN" apply /tmp/nodev.nft
else
	skip "nftflow apply not available: missing device not checked through it"
fi
finish
