#!/usr/bin/env bash
# fallback: nftflow apply --offload-fallback through the declarative path and
# the imperative one, and the flowtable preflight, on a real kernel with
# flowtables.
source "$(dirname "$0")/../lib.sh"

netns_add fb-r
ip -n fb-r link add v0 type veth peer name v1
ip -n fb-r link set v0 up
ip -n fb-r link set v1 up
ip -n fb-r link add v2 type veth peer name v3

cat >/tmp/base.nft <<'NFT'
table inet keep {
	chain forward {
		type filter hook forward priority filter; policy accept;
		ct state established,related accept
	}
}
NFT
ns fb-r nft -f /tmp/base.nft

# Declarative: changes table keep in place and creates table hw with an
# offload flowtable on veth (EOPNOTSUPP on every kernel).
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
		counter
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		meta l4proto tcp flow add @ft
	}
}
NFT
out=$(ns fb-r "$NFTFLOW_BIN" apply -v --offload-fallback /tmp/hw-veth.nft 2>&1)
rc=$?
note "declarative apply --offload-fallback: exit $rc: $(tr '\n' ' ' <<<"$out")"
ft=$(ns fb-r nft list flowtable inet hw ft 2>&1)
note "listed: $(tr '\n\t' '  ' <<<"$ft")"
if [ $rc -eq 0 ] && grep -q "hw-veth.nft:8:2: warning: devices of flowtable ft cannot do hardware offload; applying it in software" <<<"$out" &&
	grep -q 'devices = { v0, v1 }' <<<"$ft" && ! grep -q 'offload' <<<"$ft" && grep -q counter <<<"$ft" &&
	ns fb-r nft list chain inet keep forward | grep -q 'ct state invalid drop' &&
	ns fb-r nft list chain inet hw forward | grep -q 'flow add @ft'; then
	pass "declarative apply --offload-fallback: warned at the flowtable, ft in software on v0, v1 (counter kept), the rest of the file applied"
else
	fail "declarative apply --offload-fallback: exit $rc, '$out', listed '$ft'"
fi
if grep -q "warning: .*offload" <<<"$out" && [ "$(grep -n 'NF22[67]' <<<"$out" | head -1 | cut -d: -f1)" -lt "$(grep -n 'applying it in software' <<<"$out" | cut -d: -f1)" ]; then
	pass "preflight: flags offload on veth warned before sending"
else
	fail "preflight: no NF226/NF227 warning before the fallback: '$out'"
fi

# Again: the kernel holds ft in software; the file still says offload.
out=$(ns fb-r "$NFTFLOW_BIN" apply -v --offload-fallback /tmp/hw-veth.nft 2>&1)
rc=$?
note "second declarative apply --offload-fallback: exit $rc: $(tr '\n' ' ' <<<"$out")"
if [ $rc -eq 0 ] && grep -q "nothing to change" <<<"$out" && ! ns fb-r nft list flowtable inet hw ft | grep -q offload; then
	pass "declarative apply --offload-fallback again: nothing to change"
else
	fail "second declarative apply --offload-fallback: exit $rc, '$out'"
fi

# Without the fallback: refused, nothing changed.
ns fb-r nft delete table inet hw
before=$(ns fb-r nft list ruleset)
out=$(ns fb-r "$NFTFLOW_BIN" apply /tmp/hw-veth.nft 2>&1)
rc=$?
after=$(ns fb-r nft list ruleset)
if [ $rc -ne 0 ] && grep -qiE "not supported|EOPNOTSUPP" <<<"$out" && [ "$before" = "$after" ]; then
	pass "declarative apply without --offload-fallback: refused, nothing changed"
else
	fail "declarative apply without --offload-fallback: exit $rc, '$out'"
fi

# Imperative: commands, same mechanism.
ns fb-r nft flush ruleset
cat >/tmp/hw-cmds.nft <<'NFT'
add table inet hw2
add flowtable inet hw2 ft { hook ingress priority filter; devices = { v0, v1 }; flags offload; }
NFT
out=$(ns fb-r "$NFTFLOW_BIN" apply --offload-fallback /tmp/hw-cmds.nft 2>&1)
rc=$?
ft=$(ns fb-r nft list flowtable inet hw2 ft 2>&1)
note "imperative apply --offload-fallback: exit $rc: $(tr '\n' ' ' <<<"$out")"
if [ $rc -eq 0 ] && grep -q "applying it in software" <<<"$out" && grep -q 'devices = { v0, v1 }' <<<"$ft" && ! grep -q offload <<<"$ft"; then
	pass "imperative apply --offload-fallback: ft in software"
else
	fail "imperative apply --offload-fallback: exit $rc, '$out', listed '$ft'"
fi

# Preflight: a device that is down is named before sending; --no-preflight is quiet.
cat >/tmp/down.nft <<'NFT'
table inet dn {
	flowtable ft {
		hook ingress priority filter
		devices = { "v0", "v2" }
	}
}
NFT
out=$(ns fb-r "$NFTFLOW_BIN" apply /tmp/down.nft 2>&1)
rc=$?
note "apply with v2 down: exit $rc: $(tr '\n' ' ' <<<"$out")"
if [ $rc -eq 0 ] && grep -q "down.nft:2:2: warning: device v2 is down" <<<"$out" && ! grep -q "v0 is down" <<<"$out"; then
	pass "preflight: v2 down warned at the flowtable, apply went on"
else
	fail "preflight: exit $rc, '$out'"
fi
ns fb-r nft delete table inet dn
out=$(ns fb-r "$NFTFLOW_BIN" apply --no-preflight /tmp/down.nft 2>&1)
rc=$?
if [ $rc -eq 0 ] && [ -z "$out" ]; then
	pass "--no-preflight: no warning"
else
	fail "--no-preflight: exit $rc, '$out'"
fi
finish
