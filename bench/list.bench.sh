#!/usr/bin/env bash
# nftflow list ruleset vs nft list ruleset, side by side in one run.
#
# 1. A namespace holding 100,000 rules in one chain
#    (`ip saddr 10.A.B.C tcp dport P counter accept`): text, -t and -o json
#    (against nft -j). Targets: half nft's wall time, a quarter of its
#    peak memory.
#    The same 100,000 rules in 100 chains of 1,000 (a base chain jumps to
#    them): nftflow dumps the rules chain by chain, which the kernel
#    answers in a tenth of the time of nft's dump of all of them.
# 2. A named interval set of 100,000 elements (adjacent /30 prefixes, which
#    nft does not merge), listed alone.
# 3. With LIST_BENCH_BIG=1 only (minutes: the kernel's set dump restarts
#    from the first element for every 32 KB message, so it is quadratic):
#    the same set with 1,000,000 elements. Targets: wall within 10% of the
#    kernel's own time, a tenth of nft's peak memory.
#
# "kernel" is `nftflow list ruleset --discard`: the same dump requests, the
# messages read and dropped undecoded, so its wall time is what the kernel
# spends building the dump (its system CPU time is printed beside it).
# Each figure is the best of LIST_BENCH_REPEAT runs (3; 1 for scenario 3),
# the tools alternating, since the machine is shared and timings are noisy.
set -euo pipefail
cd "$(dirname "$0")"
. ./lib.sh

N=${LIST_BENCH_N:-100000}
E=${LIST_BENCH_ELEMS:-100000}
BIG=${LIST_BENCH_BIG_ELEMS:-1000000}
R=${LIST_BENCH_REPEAT:-3}
NS=nftflow-bench-list-$$
if [ "$(id -u)" != 0 ]; then echo "list bench: needs root (network namespace), skipped"; exit 0; fi
command -v nft >/dev/null || { echo "list bench: nft not installed, skipped"; exit 0; }

cleanup() {
	ip netns del "$NS-rules" 2>/dev/null || true
	ip netns del "$NS-set" 2>/dev/null || true
	ip netns del "$NS-big" 2>/dev/null || true
	rm -rf "$BENCH_TMP"
}
trap cleanup EXIT

# run1 VAR CMD...: one run under /usr/bin/time; sets VAR_wall (s), VAR_rss
# (KiB) and VAR_sys (s of system CPU) to the best seen so far. The output
# goes to $BENCH_TMP/VAR.out when SAVE is set.
run1() {
	local var=$1; shift
	local out w m s dst=/dev/null
	if [ -n "${SAVE:-}" ]; then dst=$BENCH_TMP/$var.out; fi
	out=$(/usr/bin/time -f '%e %M %S' "$@" 2>&1 >"$dst" | tail -n 1) || { echo "bench: $* failed: $out" >&2; return 1; }
	read -r w m s <<<"$out"
	local bw=${var}_wall bm=${var}_rss bs=${var}_sys
	if [ -z "${!bw:-}" ] || awk -v a="$w" -v b="${!bw}" 'BEGIN { exit !(a < b) }'; then
		printf -v "$bw" '%s' "$w"
		printf -v "$bs" '%s' "$s"
	fi
	if [ -z "${!bm:-}" ] || [ "$m" -lt "${!bm}" ]; then printf -v "$bm" '%s' "$m"; fi
}

# bench TITLE REPEAT NS OURS_FLAGS PEER_FLAGS: best-of-REPEAT wall and peak
# memory of nftflow, nft and the kernel's own dump, and the ratios.
bench() {
	local title=$1 rep=$2 ns=$3 ours=$4 peer=$5
	unset ours_wall ours_rss ours_sys peer_wall peer_rss peer_sys kern_wall kern_rss kern_sys
	for _ in $(seq "$rep"); do
		# shellcheck disable=SC2086
		run1 ours "$NFTFLOW" list ruleset $ours --netns "$ns"
		# shellcheck disable=SC2086
		run1 peer ip netns exec "$ns" nft $peer list ruleset
		# shellcheck disable=SC2086
		run1 kern "$NFTFLOW" list ruleset $ours --discard --netns "$ns"
	done
	awk -v t="$title" -v aw="$ours_wall" -v ar="$ours_rss" -v as="$ours_sys" -v bw="$peer_wall" -v br="$peer_rss" \
		-v kw="$kern_wall" -v ks="$kern_sys" 'BEGIN {
		printf "%-34s nftflow %6.2fs %7.1fMB | nft %6.2fs %7.1fMB | kernel %6.2fs (sys %.2fs) | wall/nft %.2f, memory/nft %.2f, wall/kernel %.2f\n",
			t, aw, ar/1024, bw, br/1024, kw, ks, (bw > 0 ? aw/bw : 0), (br > 0 ? ar/br : 0), (kw > 0 ? aw/kw : 0) }'
}

# same NS OURS_FLAGS PEER_FLAGS: both listings must be identical (JSON
# compared as data, without the metainfo version fields).
same() {
	local ns=$1 ours=$2 peer=$3
	# shellcheck disable=SC2086
	"$NFTFLOW" list ruleset $ours --netns "$ns" > "$BENCH_TMP/ours.txt"
	# shellcheck disable=SC2086
	ip netns exec "$ns" nft $peer list ruleset > "$BENCH_TMP/peer.txt"
	if [ "$ours" = "-o json" ]; then
		python3 - "$BENCH_TMP/ours.txt" "$BENCH_TMP/peer.txt" <<-'EOF' || exit 1
			import json, sys
			a, b = (json.load(open(p))["nftables"][1:] for p in sys.argv[1:])
			if a != b:
			    sys.exit("list bench: JSON listings differ")
		EOF
	elif ! cmp -s "$BENCH_TMP/ours.txt" "$BENCH_TMP/peer.txt"; then
		echo "list bench: listings differ ($ours):"; diff "$BENCH_TMP/peer.txt" "$BENCH_TMP/ours.txt" | head -5
		exit 1
	fi
}

# 1. 100,000 rules.
awk -v n="$N" 'BEGIN {
	print "table ip bench {"
	print "\tchain input {"
	print "\t\ttype filter hook input priority filter; policy accept;"
	for (i = 0; i < n; i++)
		printf "\t\tip saddr 10.%d.%d.%d tcp dport %d counter accept\n", int(i / 65536) % 256, int(i / 256) % 256, i % 256, 1024 + i % 60000
	print "\t}"
	print "}"
}' > "$BENCH_TMP/rules.nft"
ip netns add "$NS-rules"
ip netns exec "$NS-rules" nft -f "$BENCH_TMP/rules.nft"
same "$NS-rules" "" ""
same "$NS-rules" "-o json" "-j"
echo "ruleset: $N rules in one chain; listings identical (text and JSON)"
bench "list ruleset ($N rules)" "$R" "$NS-rules" "" ""
bench "list ruleset -t ($N rules)" "$R" "$NS-rules" "-t" "-t"
bench "list ruleset -o json ($N rules)" "$R" "$NS-rules" "-o json" "-j"
ip netns del "$NS-rules"

# 1b. The same rules in 100 chains.
C=100
awk -v n="$N" -v c="$C" 'BEGIN {
	print "table ip bench {"
	print "\tchain input {"
	print "\t\ttype filter hook input priority filter; policy accept;"
	for (j = 0; j < c; j++)
		printf "\t\tip saddr 10.%d.0.0/16 jump c%d\n", j, j
	print "\t}"
	for (j = 0; j < c; j++) {
		printf "\tchain c%d {\n", j
		for (i = j * n / c; i < (j + 1) * n / c; i++)
			printf "\t\tip saddr 10.%d.%d.%d tcp dport %d counter accept\n", int(i / 65536) % 256, int(i / 256) % 256, i % 256, 1024 + i % 60000
		print "\t}"
	}
	print "}"
}' > "$BENCH_TMP/chains.nft"
ip netns add "$NS-rules"
ip netns exec "$NS-rules" nft -f "$BENCH_TMP/chains.nft"
same "$NS-rules" "" ""
same "$NS-rules" "-o json" "-j"
echo "ruleset: $N rules in $C chains; listings identical (text and JSON)"
bench "list ruleset ($N rules, $C chains)" "$R" "$NS-rules" "" ""
bench "list ruleset -o json ($N rules, $C chains)" "$R" "$NS-rules" "-o json" "-j"
ip netns del "$NS-rules"

# setfile COUNT: a table with one interval set of COUNT adjacent /30s.
setfile() {
	awk -v e="$1" 'BEGIN {
		print "table ip bench {"
		print "\tset nets {"
		print "\t\ttype ipv4_addr"
		print "\t\tflags interval"
		printf "\t\telements = { "
		for (i = 0; i < e; i++)
			printf "%s10.%d.%d.%d/30", (i ? ", " : ""), int(i / 16384) % 256, int(i / 64) % 256, (i % 64) * 4
		print " }"
		print "\t}"
		print "}"
	}'
}

# 2. A 100,000-element interval set.
setfile "$E" > "$BENCH_TMP/set.nft"
ip netns add "$NS-set"
ip netns exec "$NS-set" nft -f "$BENCH_TMP/set.nft"
same "$NS-set" "" ""
echo "set: $E interval elements; listings identical"
bench "list ruleset (set of $E)" "$R" "$NS-set" "" ""
ip netns del "$NS-set"

# 3. A 1,000,000-element interval set, on request.
if [ "${LIST_BENCH_BIG:-}" != 1 ]; then
	echo "set of $BIG elements: skipped (LIST_BENCH_BIG=1 runs it; it takes minutes)"
	exit 0
fi
setfile "$BIG" > "$BENCH_TMP/big.nft"
ip netns add "$NS-big"
ip netns exec "$NS-big" nft -f "$BENCH_TMP/big.nft"
SAVE=1 bench "list ruleset (set of $BIG)" 1 "$NS-big" "" ""
if cmp -s "$BENCH_TMP/ours.out" "$BENCH_TMP/peer.out"; then
	echo "set: $BIG interval elements; listings identical ($(wc -c < "$BENCH_TMP/peer.out") bytes)"
else
	echo "list bench: listings of the set of $BIG differ:"; diff "$BENCH_TMP/peer.out" "$BENCH_TMP/ours.out" | head -5
	exit 1
fi
