#!/usr/bin/env bash
# nftflow apply vs nft -f: one chain of N rules
# "ip saddr 10.A.B.C tcp dport P counter accept", and one interval set of
# N ranges, each loaded into a fresh throwaway network namespace.
# Targets (issue 3): apply <= 1/2 of nft's wall time, <= 1/4 of its peak
# memory. Then nftflow's growth over 10k/100k/1M.
#
# APPLY_RULES and APPLY_SETS override the sizes (space-separated),
# APPLY_REPEAT the runs per size (default 3; the best run counts).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "apply.bench: needs root (network namespaces); skipped"
	exit 0
fi
[ -x "$NFTFLOW" ] || { echo "apply.bench: build nftflow first ($NFTFLOW)" >&2; exit 1; }

RULES=${APPLY_RULES:-10000 100000}
REPEAT=${APPLY_REPEAT:-3}
SETS=${APPLY_SETS:-10000 100000 1000000}

# Declarative applies record what they applied per namespace: keep those
# records with the benchmark's files.
export NFTFLOW_STATE_DIR="$BENCH_TMP/state"

namespaces=()
cleanup() {
	for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
	rm -rf "$BENCH_TMP"
}
trap cleanup EXIT

# fresh_netns VAR: creates a namespace and stores its name in VAR.
fresh_netns() {
	local name="nftflow-bench-$$-${#namespaces[@]}"
	ip netns add "$name"
	namespaces+=("$name")
	printf -v "$1" '%s' "$name"
}

gen_rules() { # N FILE
	awk -v n="$1" 'BEGIN {
		print "table ip bench {"
		print "\tchain input {"
		print "\t\ttype filter hook input priority filter; policy accept;"
		for (i = 0; i < n; i++)
			printf "\t\tip saddr 10.%d.%d.%d tcp dport %d counter accept\n", int(i / 65536) % 256, int(i / 256) % 256, i % 256, 1024 + i % 60000
		print "\t}"
		print "}"
	}' > "$2"
}

gen_set() { # N FILE: N disjoint /31 ranges
	awk -v n="$1" 'BEGIN {
		print "table ip bench {"
		print "\tset nets {"
		print "\t\ttype ipv4_addr"
		print "\t\tflags interval"
		print "\t\telements = {"
		for (i = 0; i < n; i++) {
			a = 10 * 16777216 + 4 * i
			printf "\t\t\t%d.%d.%d.%d/31,\n", int(a / 16777216), int(a / 65536) % 256, int(a / 256) % 256, a % 256
		}
		print "\t\t}"
		print "\t}"
		print "}"
	}' > "$2"
}

# run_pair TITLE FILE: measures nftflow apply and nft -f, each in a fresh
# namespace, prints the comparison and checks that both listings agree
# (rules only: listing a large interval set is quadratic in the kernel).
run_pair() {
	local title=$1 file=$2 check=${3:-}
	local ns_a ns_b r
	best_ours_wall= best_ours_rss= best_peer_wall= best_peer_rss=
	for ((r = 0; r < REPEAT; r++)); do
		[ "$r" -gt 0 ] && { ip netns del "$ns_a"; ip netns del "$ns_b"; }
		fresh_netns ns_a
		fresh_netns ns_b
		measure ours "$NFTFLOW" apply --netns "$ns_a" "$file"
		measure peer ip netns exec "$ns_b" nft -f "$file"
		keep_best ours
		keep_best peer
	done
	compare "$title" best_ours best_peer
	if [ -n "$check" ] && ! cmp -s <(ip netns exec "$ns_a" nft list ruleset) <(ip netns exec "$ns_b" nft list ruleset); then
		echo "apply.bench: $title: nftflow and nft left different rulesets" >&2
		return 1
	fi
	ip netns del "$ns_a"; ip netns del "$ns_b"
	growth+=("$title: ${best_ours_wall}s ${best_ours_rss}KB")
}

# keep_best VAR: best_VAR_wall/_rss become the minimum over the repeats
# (the machine is shared: the minimum is the least disturbed run).
keep_best() {
	local w=${1}_wall r=${1}_rss bw=best_${1}_wall br=best_${1}_rss
	if [ -z "${!bw:-}" ] || awk -v a="${!w}" -v b="${!bw}" 'BEGIN { exit !(a < b) }'; then
		printf -v "$bw" '%s' "${!w}"
	fi
	if [ -z "${!br:-}" ] || [ "${!r}" -lt "${!br}" ]; then
		printf -v "$br" '%s' "${!r}"
	fi
}

growth=()
for n in $RULES; do
	f="$BENCH_TMP/rules-$n.nft"
	gen_rules "$n" "$f"
	run_pair "apply $n rules" "$f" check
done
for n in $SETS; do
	f="$BENCH_TMP/set-$n.nft"
	gen_set "$n" "$f"
	run_pair "apply interval set of $n ranges" "$f"
done

echo "nftflow growth:"
for g in "${growth[@]}"; do echo "  $g"; done
