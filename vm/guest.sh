#!/usr/bin/env bash
# guest.sh: runs inside the test VM (started by vm/init through the run file
# vm/run.sh writes). Runs the named scenarios one after the other, each with a
# time limit, and turns a scenario that failed without saying so into a FAIL
# line.
#   guest.sh SCENARIO...
cd "$(dirname "$0")/.." || exit 99
kver=$(uname -r)
rc=0
echo "=== nftflow under test: ${NFTFLOW_BIN:-none} ($([ -x "${NFTFLOW_BIN:-}" ] && sha256sum "$NFTFLOW_BIN" | cut -c1-16))"
for s in "$@"; do
	echo "=== scenario $s on $kver"
	t0=$(date +%s%N)
	# A scenario may ask for more time than the default with a
	# "# vm-timeout: SECONDS" line.
	limit=$(sed -n 's/^# vm-timeout: \([0-9][0-9]*\)$/\1/p' "vm/scenarios/$s.sh" | head -n 1)
	SCENARIO=$s timeout -k 5 "${NFTFLOW_VM_SCENARIO_TIMEOUT:-${limit:-150}}" bash "vm/scenarios/$s.sh" 2>&1 | tee "/tmp/scenario.$s.out"
	src=${PIPESTATUS[0]}
	t1=$(date +%s%N)
	echo "=== scenario $s exit $src in $(((t1 - t0) / 1000000)) ms"
	if [ "$src" -ne 0 ]; then
		rc=1
		if ! grep -q '^FAIL ' "/tmp/scenario.$s.out"; then
			echo "FAIL [$kver] $s: exited $src without a FAIL line (124 = timed out)"
		fi
	fi
	# Leave nothing behind for the next scenario.
	for n in $(ip netns list 2>/dev/null | awk '{print $1}'); do ip netns del "$n"; done
	nft flush ruleset 2>/dev/null
done
exit $rc
