#!/usr/bin/env bash
# listing: `nftflow list ruleset` against `nft list ruleset` (text, byte for
# byte, and `-o json` against `nft -j` as JSON) for what the host's kernel
# cannot load, so that the conformance suites cannot compare it there: the
# corpus dumps that hold flowtables, the queue statements of
# tests/py/any/queue.t in an ip and an inet table, and the bridge meta keys
# of tests/py/bridge/meta.t. Each is loaded with nft -f into a fresh
# namespace. Then `nftflow apply` of nftflow's own listing into another
# namespace must list, by nft, as nft's listing of the first.
# vm-timeout: 400
source "$(dirname "$0")/../lib.sh"

corpus=${NFTFLOW_CORPUS:-$(cd .. && pwd)/shared/corpus}
if [ ! -d "$corpus/nftables" ]; then
	skip "no corpus at $corpus (NFTFLOW_CORPUS)"
	finish
fi
if ! have_nftflow list ruleset; then
	skip "nftflow list ruleset not available"
	finish
fi

# The JSON listings are compared at the end, all in one python3 run (a
# python3 start is slow under emulation): pairs go to $jsondir.
jsondir=/tmp/ls.json
rm -rf "$jsondir"
mkdir -p "$jsondir"
pairs=0

# compare LABEL FILE: load FILE with nft into a fresh namespace, compare
# the listings, then apply nftflow's listing elsewhere.
compare() {
	local label=$1 file=$2 out
	netns_add ls-a
	if ! out=$(ns ls-a nft -f "$file" 2>&1); then
		note "$label: nft -f refuses it on this kernel: $(head -n 1 <<<"$out")"
		cleanup_netns
		return
	fi
	ns ls-a nft list ruleset >/tmp/ls.nft.txt
	ns ls-a "$NFTFLOW_BIN" list ruleset >/tmp/ls.ours.txt 2>/tmp/ls.err
	if cmp -s /tmp/ls.nft.txt /tmp/ls.ours.txt; then
		pass "$label: nftflow list ruleset is nft's listing, byte for byte"
	else
		fail "$label: listings differ: $(diff /tmp/ls.nft.txt /tmp/ls.ours.txt | head -n 6 | tr '\n' '|') $(head -c 300 /tmp/ls.err)"
	fi
	pairs=$((pairs + 1))
	printf '%s\n' "$label" >"$jsondir/$pairs.label"
	ns ls-a nft -j list ruleset >"$jsondir/$pairs.nft"
	ns ls-a "$NFTFLOW_BIN" list ruleset -o json >"$jsondir/$pairs.ours" 2>&1
	netns_add ls-b
	netns_add ls-c
	if out=$(NFTFLOW_STATE_DIR=/tmp/ls.state ns ls-b "$NFTFLOW_BIN" apply /tmp/ls.ours.txt 2>&1) &&
		[ "$(ns ls-b nft list ruleset)" = "$(cat /tmp/ls.nft.txt)" ]; then
		pass "$label: nftflow apply of nftflow's listing lists as the original"
	elif ! ns ls-c nft -f /tmp/ls.nft.txt >/dev/null 2>&1 || [ "$(ns ls-c nft list ruleset)" != "$(cat /tmp/ls.nft.txt)" ]; then
		# nft 1.0.6 lists a wildcard device as foo* and cannot read that
		# back either.
		note "$label: no round trip, as with nft -f of nft's own listing: $(head -n 1 <<<"$out")"
	else
		fail "$label: round trip: $(head -c 300 <<<"$out") $(diff /tmp/ls.nft.txt <(ns ls-b nft list ruleset) | head -n 4 | tr '\n' '|')"
	fi
	cleanup_netns
}

for f in "$corpus"/nftables/tests/shell/testcases/*/dumps/*.nft; do
	grep -q '^\s*flowtable ' "$f" || continue
	compare "${f#"$corpus"/nftables/tests/shell/testcases/}" "$f"
done

# py_ruleset FILE FAMILY: a table of FAMILY with the first chain FILE (a
# tests/py .t file) declares, holding the rules FILE marks ok.
py_ruleset() {
	local spec
	spec=$(grep -m 1 '^:' "$1" | cut -d';' -f2)
	echo "table $2 t {"
	echo "	chain c {"
	echo "		$spec; policy accept;"
	grep -E '^[^#*:!?%-].*;ok' "$1" | cut -d';' -f1 | sed 's/^/\t\t/'
	echo "	}"
	echo "}"
}

# Statements whose kernel modules the host lacks: queue (nft_queue) and the
# bridge meta keys (nft_meta_bridge).
for spec in "any/queue.t ip" "any/queue.t inet" "bridge/meta.t bridge"; do
	read -r t fam <<<"$spec"
	py_ruleset "$corpus/nftables/tests/py/$t" "$fam" >/tmp/py-$fam.nft
	compare "$t in $fam" /tmp/py-$fam.nft
done

# Each JSON pair is the same document, leaving out the metainfo and what
# nftflow adds to nft 1.0.6's JSON on purpose (table and chain comments,
# table flags, chain devices, the dynamic set flag, and flowtable flags and
# counter).
while IFS=$'\t' read -r verdict label detail; do
	if [ "$verdict" = same ]; then
		pass "$label: nftflow list ruleset -o json is nft -j's"
	else
		fail "$label: JSON differs: $detail"
	fi
done < <(python3 - "$jsondir" "$pairs" <<'PY'
import json, sys
def norm(path):
    out = []
    for o in json.load(open(path))["nftables"]:
        for kind, v in o.items():
            if kind == "metainfo":
                break
            if kind == "table":
                v.pop("comment", None); v.pop("flags", None)
            elif kind == "chain":
                v.pop("comment", None); v.pop("dev", None)
            elif kind in ("set", "map") and isinstance(v.get("flags"), list):
                v["flags"] = [f for f in v["flags"] if f != "dynamic"]
                if not v["flags"]:
                    del v["flags"]
            elif kind == "flowtable":
                v.pop("flags", None); v.pop("counter", None)
            out.append(o)
    return out
d, n = sys.argv[1], int(sys.argv[2])
for i in range(1, n + 1):
    label = open(f"{d}/{i}.label").read().strip()
    try:
        a, b = norm(f"{d}/{i}.nft"), norm(f"{d}/{i}.ours")
        ok, detail = a == b, f"nft {json.dumps(a)[:300]} | nftflow {json.dumps(b)[:300]}"
    except Exception as e:
        ok, detail = False, f"{e}: {open(f'{d}/{i}.ours').read()[:300]}"
    print(("same" if ok else "differs") + "\t" + label + "\t" + detail.replace("\t", " ").replace("\n", " "))
PY
)
finish
