#!/usr/bin/env bash
# make demo: nftflow's main jobs on the examples that ship with the repo.
# Lint and format every example (no kernel, no root); then, as root, apply
# one to a throwaway network namespace, list it back next to nft's own
# listing, show that a second apply changes nothing, and list its flows.
set -euo pipefail
cd "$(dirname "$0")/.."
NFTFLOW=${NFTFLOW_BIN:-./bin/nftflow}

for f in examples/*.nft; do
	echo "== nftflow lint $f"
	"$NFTFLOW" lint "$f"
	echo "== nftflow fmt -d $f (no diff: the example is in canonical layout)"
	"$NFTFLOW" fmt -d "$f"
done

echo "== nftflow flowtable devices for the seed's IPIP topology, per kernel"
topo=cmd/testdata/script/flowtable_devices.txtar
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed -n '/^-- seed.json --$/,/^-- /p' "$topo" | sed '1d;/^-- /d' >"$tmp/seed.json"
for k in 6.1 7.2; do
	printf 'Linux %s: ' "$k"
	"$NFTFLOW" flowtable devices --topology "$tmp/seed.json" --kernel "$k" eth0 tun0
done

if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null; then
	echo "== skipping the kernel part of the demo: it needs root and iproute2"
	exit 0
fi
ns=nftflow-demo-$$
ip netns add "$ns"
# What declarative applies record for the next one stays with the demo.
export NFTFLOW_STATE_DIR="$tmp/state"
trap 'ip netns del "$ns" 2>/dev/null; rm -rf "$tmp"' EXIT
ex=examples/k8s-node.nft
echo "== nftflow apply --netns $ns $ex"
"$NFTFLOW" apply --netns "$ns" -v "$ex"
echo "== nftflow list ruleset --netns $ns, compared with nft list ruleset"
"$NFTFLOW" list ruleset --netns "$ns" >"$tmp/ours"
ip netns exec "$ns" nft list ruleset >"$tmp/theirs"
if cmp -s "$tmp/ours" "$tmp/theirs"; then
	echo "identical ($(wc -l <"$tmp/ours") lines)"
else
	diff -u "$tmp/theirs" "$tmp/ours" || true
	exit 1
fi
echo "== nftflow diff --exit-code --netns $ns $ex (nothing to change)"
"$NFTFLOW" diff --exit-code --netns "$ns" "$ex"
echo "== nftflow apply again: sends no changes"
"$NFTFLOW" apply --netns "$ns" -v "$ex"
echo "== edit one rule of the file and apply it: only that rule is sent, by handle, without reading the kernel"
cp "$ex" "$tmp/k8s-node.nft"
"$NFTFLOW" apply --netns "$ns" "$tmp/k8s-node.nft"
sed -i 's|ip daddr 10.96.0.0/16 drop|ip daddr 10.96.0.0/12 drop|' "$tmp/k8s-node.nft"
"$NFTFLOW" apply --netns "$ns" -v "$tmp/k8s-node.nft"
ip netns exec "$ns" nft list ruleset | grep -F '10.96.0.0/12'
echo "== nftflow list flows --netns $ns"
"$NFTFLOW" list flows --netns "$ns"
