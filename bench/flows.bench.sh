#!/usr/bin/env bash
# nftflow list flows vs conntrack -L on a 200,000-entry conntrack table in a
# throwaway network namespace, filled over ctnetlink by cmd/nftflow-ctgen.
# Targets: -o conntrack no slower than conntrack -L, peak memory < 32 MB,
# the default table within 1.5x of conntrack -L.
set -euo pipefail
cd "$(dirname "$0")"
. ./lib.sh

N=${FLOWS_BENCH_N:-200000}
NS=nftflow-bench-flows-$$
if [ "$(id -u)" != 0 ]; then echo "flows bench: needs root (network namespace), skipped"; exit 0; fi

go build -o "$BENCH_TMP/nftflow-ctgen" ../cmd/nftflow-ctgen

# nf_conntrack_max is global (read-only inside a namespace); make sure the
# table can hold N entries, and put the old value back afterwards.
max=$(cat /proc/sys/net/netfilter/nf_conntrack_max)
restore_max=""
if [ "$max" -lt $((N + 1000)) ]; then
	echo $((N + 1000)) > /proc/sys/net/netfilter/nf_conntrack_max
	restore_max=$max
fi
cleanup() {
	ip netns del "$NS" 2>/dev/null || true
	if [ -n "$restore_max" ]; then echo "$restore_max" > /proc/sys/net/netfilter/nf_conntrack_max; fi
	rm -rf "$BENCH_TMP"
}
trap cleanup EXIT
ip netns add "$NS"

"$BENCH_TMP/nftflow-ctgen" -netns "$NS" -n "$N" -timeout 3600
got=$(ip netns exec "$NS" conntrack -C)
echo "conntrack table of $NS: $got entries"

# Warm up both once so neither pays for a cold page cache.
ip netns exec "$NS" conntrack -L >/dev/null 2>&1
"$NFTFLOW" list flows --netns "$NS" -o conntrack >/dev/null 2>&1

# Same lines as conntrack -L on the whole table? Timeouts tick between the
# two reads, so they are the one field masked here.
mask() { sed -E 's/^([a-z0-9]+ +[0-9]+) [0-9]+ /\1 T /' | LC_ALL=C sort; }
ip netns exec "$NS" conntrack -L 2>/dev/null | mask > "$BENCH_TMP/peer.txt"
"$NFTFLOW" list flows --netns "$NS" -o conntrack 2>/dev/null | mask > "$BENCH_TMP/ours.txt"
same=$(LC_ALL=C comm -12 "$BENCH_TMP/peer.txt" "$BENCH_TMP/ours.txt" | wc -l)
echo "conformance: $same of $(wc -l < "$BENCH_TMP/peer.txt") conntrack -L lines printed identically by nftflow -o conntrack (timeouts masked)"

# The machine is shared: run the four commands in turn ROUNDS times and keep
# each one's best wall time and its highest peak memory.
ROUNDS=${FLOWS_BENCH_ROUNDS:-3}
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
	measure peer ip netns exec "$NS" conntrack -L; best peer
	measure ct "$NFTFLOW" list flows --netns "$NS" -o conntrack; best ct
	measure table "$NFTFLOW" list flows --netns "$NS"; best table
	measure json "$NFTFLOW" list flows --netns "$NS" -o json; best json
done
compare "list flows -o conntrack ($got entries, best of $ROUNDS)" best_ct best_peer
compare "list flows (table) vs conntrack -L" best_table best_peer
compare "list flows -o json vs conntrack -L" best_json best_peer
