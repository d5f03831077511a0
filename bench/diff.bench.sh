#!/usr/bin/env bash
# nftflow apply (declarative, minimal diff) vs nft -f reloading the file,
# side by side in throwaway network namespaces:
#  1. 100,000 rules loaded, one rule changed: nftflow apply of the changed
#     file vs nft -f of the file with "flush table" on top.
#     Target: nftflow at most a tenth of nft's time.
#  2. a 1,000,000-element set, 1,000 elements added and 1,000 removed:
#     nftflow apply of the changed file vs nft -f reloading the set
#     ("flush set" and every element). Target: nftflow under a second.
set -euo pipefail
cd "$(dirname "$0")"
. ./lib.sh

if [ "$(id -u)" != 0 ]; then echo "diff bench: needs root (network namespace), skipped"; exit 0; fi
RULES=${DIFF_BENCH_RULES:-100000}
ELEMS=${DIFF_BENCH_ELEMS:-1000000}
ROUNDS=${DIFF_BENCH_ROUNDS:-3}
NS=nftflow-bench-diff-$$
NS2=nftflow-bench-diff-peer-$$
export NFTFLOW_STATE_DIR=$BENCH_TMP/state
[ -x "$NFTFLOW" ] || (cd .. && go build -o "$NFTFLOW" ./cmd/nftflow)
cleanup() { ip netns del "$NS" 2>/dev/null || true; ip netns del "$NS2" 2>/dev/null || true; rm -rf "$BENCH_TMP"; }
trap cleanup EXIT
ip netns add "$NS"
ip netns add "$NS2"

# rules FILE CHANGED: RULES rules in one chain; CHANGED=1 changes rule RULES/2.
rules() {
	awk -v n="$RULES" -v changed="$2" 'BEGIN {
		print "table inet big {\n\tchain c {\n\t\ttype filter hook input priority 0; policy accept;"
		for (i = 0; i < n; i++) {
			v = (changed && i == int(n / 2)) ? "drop" : "accept"
			printf "\t\tip saddr 10.%d.%d.%d tcp dport %d counter %s\n", int(i / 65536), int(i / 256) % 256, i % 256, 1000 + i % 1000, v
		}
		print "\t}\n}"
	}' > "$1"
}
rules "$BENCH_TMP/rules-a.nft" 0
rules "$BENCH_TMP/rules-b.nft" 1
for v in a b; do
	{ echo "table inet big"; echo "flush table inet big"; cat "$BENCH_TMP/rules-$v.nft"; } > "$BENCH_TMP/rules-$v-reload.nft"
done

# elems FILE FROM: ELEMS elements starting at index FROM.
elems() {
	awk -v n="$ELEMS" -v from="$2" 'BEGIN {
		print "table ip sets {\n\tset s {\n\t\ttype ipv4_addr\n\t\tsize " n + 10000
		printf "\t\telements = { "
		for (i = from; i < from + n; i++) {
			printf "%s%d.%d.%d.%d", (i > from ? ",\n\t\t\t" : ""), 10 + int(i / 16777216), int(i / 65536) % 256, int(i / 256) % 256, i % 256
		}
		print " }\n\t}\n}"
	}' > "$1"
}
elems "$BENCH_TMP/elems-a.nft" 0
elems "$BENCH_TMP/elems-b.nft" 1000
for v in a b; do
	{ echo "table ip sets"; echo "flush set ip sets s"; cat "$BENCH_TMP/elems-$v.nft"; } > "$BENCH_TMP/elems-$v-reload.nft"
done

nft_ns() { ip netns exec "$NS" nft "$@"; }

# cpu VAR CMD...: like measure, and also stores user+system CPU seconds in
# VAR_cpu (the machine is shared: CPU time is steadier than wall time).
cpu() {
	local var=$1; shift
	local out
	out=$(/usr/bin/time -f '%e %M %U %S' "$@" 2>&1 >/dev/null | tail -n 1) || { echo "bench: $* failed: $out" >&2; return 1; }
	read -r w m u s <<<"$out"
	printf -v "${var}_wall" '%s' "$w"
	printf -v "${var}_rss" '%s' "$m"
	printf -v "${var}_cpu" '%s' "$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')"
}

best() {
	local var=$1
	local w=${var}_wall r=${var}_rss bw=best_${var}_wall br=best_${var}_rss
	if [ -z "${!bw:-}" ] || awk -v a="${!w}" -v b="${!bw}" 'BEGIN { exit !(a < b) }'; then
		printf -v "$bw" '%s' "${!w}"
	fi
	if [ -z "${!br:-}" ] || [ "${!r}" -gt "${!br}" ]; then
		printf -v "$br" '%s' "${!r}"
	fi
	local c=${var}_cpu bc=best_${var}_cpu
	if [ -z "${!bc:-}" ] || awk -v a="${!c}" -v b="${!bc}" 'BEGIN { exit !(a < b) }'; then
		printf -v "$bc" '%s' "${!c}"
	fi
}

# cpu_ratio TITLE A B: the CPU seconds (user + system, ours and the
# kernel's work on our behalf) of both and their ratio.
cpu_ratio() {
	local a=best_${2}_cpu b=best_${3}_cpu
	awk -v t="$1" -v a="${!a}" -v b="${!b}" 'BEGIN { printf "%-48s nftflow %6.2fs CPU | peer %6.2fs CPU | CPU ratio %.2f\n", t, a, b, (b > 0 ? a / b : 0) }'
}

# Each tool works in its own namespace, so that one's commits do not make
# the other's state stale. nftflow applies one file edited in place, as a
# user does: its first apply is the initial load (not measured), each
# measured apply changes one rule (or 2,000 elements) from the previous.

# 1. One rule of 100,000 changed.
cp "$BENCH_TMP/rules-a.nft" "$BENCH_TMP/rules.nft"
"$NFTFLOW" apply --netns "$NS" "$BENCH_TMP/rules.nft"
ip netns exec "$NS2" nft -f "$BENCH_TMP/rules-a.nft"
for r in $(seq "$ROUNDS"); do
	v=b; [ $((r % 2)) = 0 ] && v=a
	cp "$BENCH_TMP/rules-$v.nft" "$BENCH_TMP/rules.nft"
	cpu ours "$NFTFLOW" apply --netns "$NS" "$BENCH_TMP/rules.nft"; best ours
	cpu peer ip netns exec "$NS2" nft -f "$BENCH_TMP/rules-$v-reload.nft"; best peer
done
if ! cmp -s <(nft_ns list ruleset) <(ip netns exec "$NS2" nft list ruleset); then
	echo "diff bench: nftflow's and nft's namespaces differ after the rule rounds" >&2; exit 1
fi
echo "both namespaces list the same $(nft_ns list chain inet big c | grep -c 'dport') rules after the last round"
compare "change 1 of $RULES rules (peer: nft -f, flush table)" best_ours best_peer
cpu_ratio "change 1 of $RULES rules" ours peer
nft_ns delete table inet big
ip netns exec "$NS2" nft delete table inet big

# 2. 1,000 elements added and 1,000 removed in a 1,000,000-element set.
cp "$BENCH_TMP/elems-a.nft" "$BENCH_TMP/elems.nft"
"$NFTFLOW" apply --netns "$NS" "$BENCH_TMP/elems.nft"
ip netns exec "$NS2" nft -f "$BENCH_TMP/elems-a.nft"
for r in $(seq "$ROUNDS"); do
	v=b; [ $((r % 2)) = 0 ] && v=a
	cp "$BENCH_TMP/elems-$v.nft" "$BENCH_TMP/elems.nft"
	cpu sours "$NFTFLOW" apply --netns "$NS" "$BENCH_TMP/elems.nft"; best sours
	cpu speer ip netns exec "$NS2" nft -f "$BENCH_TMP/elems-$v-reload.nft"; best speer
done
ours_n=$(nft_ns list ruleset | grep -o '[0-9]*\.[0-9]*\.[0-9]*\.[0-9]*' | sort | md5sum)
peer_n=$(ip netns exec "$NS2" nft list ruleset | grep -o '[0-9]*\.[0-9]*\.[0-9]*\.[0-9]*' | sort | md5sum)
if [ "$ours_n" != "$peer_n" ]; then
	echo "diff bench: the sets of nftflow's and nft's namespaces differ after the element rounds" >&2; exit 1
fi
compare "+1000/-1000 of $ELEMS elements (peer: nft -f, flush set)" best_sours best_speer
cpu_ratio "+1000/-1000 of $ELEMS elements" sours speer
awk -v w="$best_sours_wall" 'BEGIN { printf "element change target (< 1 s): %s\n", (w < 1 ? "met" : "not met") }'
awk -v a="$best_ours_wall" -v b="$best_peer_wall" 'BEGIN { printf "rule change target (<= 0.1 x nft): %s (ratio %.2f)\n", (a <= b / 10 ? "met" : "not met"), (b > 0 ? a / b : 0) }'
