#!/usr/bin/env bash
# nftflow compile vs nft --debug=netlink -c -f on a 20,000-rule ruleset
# (one chain of `ip saddr 10.A.B.C tcp dport P counter accept` plus anonymous
# sets), both printing every rule's netlink expressions. nft -c runs in a
# throwaway network namespace so it never touches the host's ruleset.
set -euo pipefail
cd "$(dirname "$0")"
. ./lib.sh

N=${COMPILE_BENCH_N:-20000}
NS=nftflow-bench-compile-$$
if [ "$(id -u)" != 0 ]; then echo "compile bench: needs root (network namespace for nft -c), skipped"; exit 0; fi
command -v nft >/dev/null || { echo "compile bench: nft not installed, skipped"; exit 0; }

cleanup() {
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$BENCH_TMP"
}
trap cleanup EXIT
ip netns add "$NS"

FILE=$BENCH_TMP/rules-$N.nft
awk -v n="$N" 'BEGIN {
	print "table inet bench {"
	print "\tchain input {"
	print "\t\ttype filter hook input priority filter; policy accept;"
	for (i = 0; i < n; i++) {
		if (i % 4 == 0)
			printf "\t\tip saddr { 10.%d.%d.%d, 10.%d.%d.%d } tcp dport { %d, %d } accept\n", int(i / 65536) % 256, int(i / 256) % 256, i % 256, int(i / 65536) % 256, int(i / 256) % 256, (i + 1) % 256, 1024 + i % 60000, 2048 + i % 60000
		else
			printf "\t\tip saddr 10.%d.%d.%d tcp dport %d counter accept\n", int(i / 65536) % 256, int(i / 256) % 256, i % 256, 1024 + i % 60000
	}
	print "\t}"
	print "}"
}' > "$FILE"
echo "ruleset: $N rules, $(wc -c < "$FILE") bytes"
cat "$FILE" >/dev/null

measure ours "$NFTFLOW" compile "$FILE"
measure peer ip netns exec "$NS" nft --debug=netlink -c -f "$FILE"
compare "compile $N rules to netlink expressions" ours peer
