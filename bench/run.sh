#!/usr/bin/env bash
# make bench: runs every bench/*.bench.sh; each prints its own comparison.
set -euo pipefail
cd "$(dirname "$0")"
status=0
for b in ./*.bench.sh; do
	[ -e "$b" ] || continue
	echo "== ${b#./}"
	bash "$b" || status=1
done
exit $status
