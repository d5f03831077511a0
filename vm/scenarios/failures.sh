#!/usr/bin/env bash
# failures: what the kernel accepts and refuses around flowtables, and that a
# refused load leaves the ruleset as it was. Each case is loaded with
# `nft -f` and, when it exists, with `nftflow apply` (same expectation; the
# error must name the cause).
#  - `flags offload` (hardware offload) on veth, and on an ipip tunnel:
#    EOPNOTSUPP on every kernel.
#  - a flowtable device that does not exist: ENOENT before 6.16; from 6.16
#    on the kernel accepts the name and lists it.
#  - `flow add` in a chain hooked at input: EOPNOTSUPP.
#  - a flowtable in a netdev table: ENOENT.
#  - a flowtable with `counter`: accepted.
#  - one device in two flowtables of two ip tables at the same priority:
#    accepted.
source "$(dirname "$0")/../lib.sh"

netns_add fl-r
ip -n fl-r link add v0 type veth peer name v1
ip -n fl-r link set v0 up
ip -n fl-r link set v1 up
ip -n fl-r link add tun0 type ipip local 10.99.0.1 remote 10.99.0.2
ip -n fl-r link set tun0 up

# A ruleset already in place, which a refused load must not disturb.
cat >/tmp/base.nft <<'NFT'
table inet keep {
	chain forward {
		type filter hook forward priority filter; policy accept;
		ct state established,related accept
	}
}
NFT

reset_ruleset() {
	ns fl-r nft flush ruleset
	ns fl-r nft -f /tmp/base.nft
}

# expect_load CASE FILE EXPECT CHECK [APPLY_EXPECT]: loads FILE with nft -f,
# then (fresh ruleset) with nftflow apply when it exists. EXPECT is "ok" or
# a regex the error must match; a refused load must leave the ruleset
# unchanged; an accepted one must make CHECK (a shell command run in fl-r)
# succeed. APPLY_EXPECT, when given, is nftflow apply's expectation instead.
apply_missing=
expect_load() {
	local name=$1 file=$2 want=$3 check=$4 tool out rc before after
	local apply_want=${5:-$3}
	for tool in "nft -f" "nftflow apply"; do
		reset_ruleset
		before=$(ns fl-r nft list ruleset)
		if [ "$tool" = "nft -f" ]; then
			out=$(ns fl-r nft -f "$file" 2>&1)
			rc=$?
		elif have_nftflow apply; then
			want=$apply_want
			out=$(ns fl-r "$NFTFLOW_BIN" apply "$file" 2>&1)
			rc=$?
		else
			apply_missing=1
			continue
		fi
		note "$tool: $name: exit $rc: $(head -c 300 <<<"$out" | tr '\n' ' ')"
		if [ "$want" = ok ]; then
			if [ $rc -eq 0 ] && ns fl-r sh -c "$check" >/dev/null 2>&1; then
				pass "$tool: $name: accepted"
			else
				fail "$tool: $name: exit $rc, '$out'; want it accepted (and '$check' to succeed)"
			fi
			continue
		fi
		if [ $rc -ne 0 ] && grep -qiE "$want" <<<"$out"; then
			pass "$tool: $name: refused with /$want/"
		else
			fail "$tool: $name: exit $rc, output '$out'; want a failure matching /$want/"
		fi
		after=$(ns fl-r nft list ruleset)
		if [ "$after" = "$before" ]; then
			pass "$tool: $name: ruleset unchanged after the failure"
		else
			fail "$tool: $name: ruleset changed after the failure: $(tr '\n' ' ' <<<"$after")"
		fi
	done
}

EOPNOTSUPP="not supported|EOPNOTSUPP"
ENOENT="No such file or directory|ENOENT"

# Hardware offload on veth. The file also changes the table in place: the
# whole transaction must be refused.
cat >/tmp/hw-veth.nft <<'NFT'
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
expect_load "flags offload on veth" /tmp/hw-veth.nft "$EOPNOTSUPP" true

cat >/tmp/hw-tun.nft <<'NFT'
table inet hw {
	flowtable ft {
		hook ingress priority filter
		devices = { "tun0" }
		flags offload
	}
}
NFT
expect_load "flags offload on an ipip tunnel" /tmp/hw-tun.nft "$EOPNOTSUPP" true

cat >/tmp/nodev.nft <<'NFT'
table inet nodev {
	flowtable ft {
		hook ingress priority filter
		devices = { "v0", "nosuch0" }
	}
}
NFT
# Before 6.16 the kernel refuses the whole transaction (ENOENT): nftflow
# apply checks the devices first and refuses by name, sending nothing. From
# 6.16 the kernel hooks the device when it appears: apply sends it and its
# preflight warns that nothing is offloaded through it until then.
NODEV="no such device.*nosuch0|$ENOENT"
if kernel_at_least 6 16; then
	expect_load "flowtable on a missing device (>= 6.16)" /tmp/nodev.nft ok "nft list flowtable inet nodev ft | grep -q nosuch0"
	if have_nftflow apply; then
		reset_ruleset
		out=$(ns fl-r "$NFTFLOW_BIN" apply /tmp/nodev.nft 2>&1)
		if grep -q 'warning: device nosuch0 does not exist.*NF221' <<<"$out"; then
			pass "nftflow apply: the preflight warns about nosuch0 on >= 6.16"
		else
			fail "nftflow apply: no preflight warning naming nosuch0: '$out'"
		fi
	fi
else
	expect_load "flowtable on a missing device (< 6.16)" /tmp/nodev.nft "$ENOENT" true "$NODEV"
fi
if have_nftflow apply && "$NFTFLOW_BIN" apply --help 2>&1 | grep -q -- --skip-missing-devices; then
	reset_ruleset
	out=$(ns fl-r "$NFTFLOW_BIN" apply --skip-missing-devices /tmp/nodev.nft 2>&1)
	rc=$?
	devs=$(ns fl-r nft list flowtable inet nodev ft 2>/dev/null | grep devices | tr -s '\t ' ' ')
	note "nftflow apply --skip-missing-devices: exit $rc: $(tr '\n' ' ' <<<"$out"); listed:$devs"
	if [ $rc -eq 0 ] && grep -q nosuch0 <<<"$out" && [ "$devs" = " devices = { v0 }" ]; then
		pass "nftflow apply --skip-missing-devices: flowtable on v0 only, nosuch0 named in the warning"
	else
		fail "nftflow apply --skip-missing-devices: exit $rc, '$out', flowtable devices '$devs'; want v0 only and a warning naming nosuch0"
	fi
fi

cat >/tmp/input.nft <<'NFT'
table inet t {
	flowtable ft {
		hook ingress priority filter
		devices = { "v0" }
	}

	chain input {
		type filter hook input priority filter; policy accept;
		meta l4proto tcp flow add @ft
	}
}
NFT
expect_load "flow add in an input chain" /tmp/input.nft "$EOPNOTSUPP" true

cat >/tmp/netdev.nft <<'NFT'
table netdev t {
	flowtable ft {
		hook ingress priority filter
		devices = { "v0" }
	}
}
NFT
expect_load "flowtable in a netdev table" /tmp/netdev.nft "$ENOENT" true

cat >/tmp/counter.nft <<'NFT'
table inet t {
	flowtable ft {
		hook ingress priority filter
		devices = { "v0" }
		counter
	}
}
NFT
expect_load "flowtable with counter" /tmp/counter.nft ok "nft list flowtable inet t ft | grep -q counter"

cat >/tmp/twice.nft <<'NFT'
table ip a {
	flowtable ft {
		hook ingress priority filter
		devices = { "v0" }
	}
}
table ip b {
	flowtable ft {
		hook ingress priority filter
		devices = { "v0" }
	}
}
NFT
expect_load "one device in two flowtables at the same priority" /tmp/twice.nft ok "nft list flowtable ip a ft && nft list flowtable ip b ft"
if [ -n "$apply_missing" ]; then
	skip "nftflow apply not available: every case loaded with nft -f only"
fi
finish
