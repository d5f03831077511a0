#!/usr/bin/env bash
# nftflow lint vs nft -c -f on a 100,000-rule ruleset (one chain of
# `ip saddr 10.A.B.C tcp dport P counter accept`, about 5.4 MB).
# nft -c runs in a throwaway network namespace so it never touches the
# host's ruleset. Targets: nftflow at least 3x faster and at most 1/3 of
# nft's peak memory. Also reports nftflow fmt on the same file.
set -euo pipefail
cd "$(dirname "$0")"
. ./lib.sh

N=${LINT_BENCH_N:-100000}
NS=nftflow-bench-lint-$$
if [ "$(id -u)" != 0 ]; then echo "lint bench: needs root (network namespace for nft -c), skipped"; exit 0; fi
command -v nft >/dev/null || { echo "lint bench: nft not installed, skipped"; exit 0; }

cleanup() {
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$BENCH_TMP"
}
trap cleanup EXIT
ip netns add "$NS"

FILE=$BENCH_TMP/rules-$N.nft
awk -v n="$N" 'BEGIN {
	print "table ip bench {"
	print "\tchain input {"
	print "\t\ttype filter hook input priority filter; policy accept;"
	for (i = 0; i < n; i++)
		printf "\t\tip saddr 10.%d.%d.%d tcp dport %d counter accept\n", int(i / 65536) % 256, int(i / 256) % 256, i % 256, 1024 + i % 60000
	print "\t}"
	print "}"
}' > "$FILE"
echo "ruleset: $N rules, $(wc -c < "$FILE") bytes"

# the lint command may not exist in every build; fall back to fmt
if "$NFTFLOW" lint --help >/dev/null 2>&1; then LINT=(lint); else LINT=(fmt); echo "nftflow lint missing: measuring fmt"; fi

# warm the page cache
cat "$FILE" >/dev/null

# The machine is shared: run each command ROUNDS times, keep the best wall
# time and the highest peak memory.
ROUNDS=${LINT_BENCH_ROUNDS:-3}
best() {
	local var=$1
	local w=${var}_wall r=${var}_rss bw=best_${var}_wall br=best_${var}_rss
	if [ -z "${!bw:-}" ] || awk -v a="${!w}" -v b="${!bw}" 'BEGIN { exit !(a < b) }'; then
		printf -v "$bw" '%s' "${!w}"
	fi
	if [ -z "${!br:-}" ] || [ "${!r}" -gt "${!br}" ]; then
		printf -v "$br" '%s' "${!r}"
	fi
}
for _ in $(seq "$ROUNDS"); do
	measure peer ip netns exec "$NS" nft -c -f "$FILE"; best peer
	measure lint "$NFTFLOW" "${LINT[@]}" "$FILE"; best lint
	measure fmt "$NFTFLOW" fmt "$FILE"; best fmt
done
compare "${LINT[*]} $N rules vs nft -c -f (best of $ROUNDS)" best_lint best_peer
compare "fmt $N rules vs nft -c -f" best_fmt best_peer
