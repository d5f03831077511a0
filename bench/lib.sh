# Shared helpers for the benchmark scripts (sourced, not run).
# Each benchmark runs nftflow and the peer side by side in one run and
# prints both figures and their ratio.

NFTFLOW=${NFTFLOW_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/bin/nftflow}
BENCH_TMP=${BENCH_TMP:-$(mktemp -d /tmp/nftflow-bench.XXXXXX)}

# measure VAR CMD...: runs CMD under /usr/bin/time, stores wall seconds in
# VAR_wall and peak RSS in KiB in VAR_rss, and fails if CMD fails.
measure() {
	local var=$1; shift
	local out
	out=$(/usr/bin/time -f '%e %M' "$@" 2>&1 >/dev/null | tail -n 1) || { echo "bench: $* failed: $out" >&2; return 1; }
	printf -v "${var}_wall" '%s' "${out% *}"
	printf -v "${var}_rss" '%s' "${out#* }"
}

# compare TITLE A B: prints one line comparing two measured variables
# (nftflow first, the peer second) with wall and memory ratios.
compare() {
	local title=$1 a=$2 b=$3
	local aw=${a}_wall ar=${a}_rss bw=${b}_wall br=${b}_rss
	awk -v t="$title" -v aw="${!aw}" -v ar="${!ar}" -v bw="${!bw}" -v br="${!br}" 'BEGIN {
		printf "%-48s nftflow %6.2fs %7.1fMB | peer %6.2fs %7.1fMB | wall ratio %.2f, memory ratio %.2f\n",
			t, aw, ar/1024, bw, br/1024, (bw > 0 ? aw/bw : 0), (br > 0 ? ar/br : 0) }'
}

# netns_create NAME: a throwaway network namespace, removed on exit.
netns_create() {
	ip netns add "$1"
	trap "ip netns del $1 2>/dev/null" EXIT
}
