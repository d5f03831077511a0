#!/usr/bin/env bash
# nftflow list ruleset vs nft list ruleset on a namespace holding 50,000
# rules (`ip saddr 10.A.B.C tcp dport P counter accept`) and a 100,000
# element interval set. Checks that both listings are identical, then
# compares wall time and peak memory: the listing is streamed, so nftflow's
# memory should stay well under nft's, which builds its whole cache first.
set -euo pipefail
cd "$(dirname "$0")"
. ./lib.sh

N=${LIST_BENCH_N:-50000}
E=${LIST_BENCH_ELEMS:-100000}
NS=nftflow-bench-list-$$
if [ "$(id -u)" != 0 ]; then echo "list bench: needs root (network namespace), skipped"; exit 0; fi
command -v nft >/dev/null || { echo "list bench: nft not installed, skipped"; exit 0; }

cleanup() {
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$BENCH_TMP"
}
trap cleanup EXIT
ip netns add "$NS"

FILE=$BENCH_TMP/list-$N.nft
awk -v n="$N" -v e="$E" 'BEGIN {
	print "table ip bench {"
	print "\tset nets {"
	print "\t\ttype ipv4_addr"
	print "\t\tflags interval"
	printf "\t\telements = { "
	for (i = 0; i < e; i++)
		printf "%s172.%d.%d.%d", (i ? ", " : ""), 16 + int(i / 65536) % 16, int(i / 256) % 256, i % 256
	print " }"
	print "\t}"
	print "\tchain input {"
	print "\t\ttype filter hook input priority filter; policy accept;"
	print "\t\tip saddr @nets drop"
	for (i = 0; i < n; i++)
		printf "\t\tip saddr 10.%d.%d.%d tcp dport %d counter accept\n", int(i / 65536) % 256, int(i / 256) % 256, i % 256, 1024 + i % 60000
	print "\t}"
	print "}"
}' > "$FILE"
ip netns exec "$NS" nft -f "$FILE"
echo "ruleset: $N rules, a set of $E addresses (they merge into ranges)"

"$NFTFLOW" list ruleset --netns "$NS" > "$BENCH_TMP/ours.txt"
ip netns exec "$NS" nft list ruleset > "$BENCH_TMP/peer.txt"
if cmp -s "$BENCH_TMP/ours.txt" "$BENCH_TMP/peer.txt"; then
	echo "listings identical ($(wc -c < "$BENCH_TMP/peer.txt") bytes)"
else
	echo "list bench: listings differ:"; diff "$BENCH_TMP/peer.txt" "$BENCH_TMP/ours.txt" | head -5
	exit 1
fi

measure ours "$NFTFLOW" list ruleset --netns "$NS"
measure peer ip netns exec "$NS" nft list ruleset
compare "list ruleset ($N rules)" ours peer
measure ours "$NFTFLOW" list ruleset -t --netns "$NS"
measure peer ip netns exec "$NS" nft -t list ruleset
compare "list ruleset -t ($N rules)" ours peer
