#!/usr/bin/env bash
# run.sh: the VM test bed. Boots Debian's stable (bookworm, 6.1) and unstable
# (sid, newest) kernels under qemu (TCG), with the host's root mounted
# read-only over 9p, and runs the scenarios of vm/scenarios/ inside, one boot
# per kernel. Prints every scenario's PASS/FAIL/SKIP lines, then
#   vmtest: N passed, M failed
# and exits 1 when a check failed or a boot did not finish.
#
#   vm/run.sh [--kernel 6.1|new|all]... [--scenario NAME]... [--timeout SEC]
#             [--jobs N] [--list]
#
# --jobs 1 boots the kernels one after the other (default 2: side by side).
#
# See docs/vmtest.md.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cache=${NFTFLOW_VM_CACHE:-$repo/.cache/vm}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
export NFTFLOW_VM_CACHE=$cache
nftflow_bin=${NFTFLOW_BIN:-$repo/bin/nftflow}
boot_timeout=${NFTFLOW_VM_TIMEOUT:-300}
jobs=${NFTFLOW_VM_JOBS:-2}

usage() {
	sed -n '2,14s/^# \{0,1\}//p' "$0"
	exit 2
}

kernels=()
scenarios=()
list=
while [ $# -gt 0 ]; do
	case $1 in
	--kernel | -k) IFS=, read -ra v <<<"$2"; kernels+=("${v[@]}"); shift 2 ;;
	--kernel=*) IFS=, read -ra v <<<"${1#*=}"; kernels+=("${v[@]}"); shift ;;
	--scenario | -s) IFS=, read -ra v <<<"$2"; scenarios+=("${v[@]}"); shift 2 ;;
	--scenario=*) IFS=, read -ra v <<<"${1#*=}"; scenarios+=("${v[@]}"); shift ;;
	--timeout) boot_timeout=$2; shift 2 ;;
	--jobs | -j) jobs=$2; shift 2 ;;
	--list) list=1; shift ;;
	-h | --help) usage ;;
	*) echo "vm/run.sh: unknown argument $1" >&2; usage ;;
	esac
done

all_scenarios=()
for f in "$here"/scenarios/*.sh; do
	s=$(basename "$f" .sh)
	all_scenarios+=("$s")
done
if [ -n "$list" ]; then
	printf '%s\n' "${all_scenarios[@]}"
	exit 0
fi
[ ${#scenarios[@]} -eq 0 ] && scenarios=("${all_scenarios[@]}")
for s in "${scenarios[@]}"; do
	if [ ! -f "$here/scenarios/$s.sh" ]; then
		echo "vm/run.sh: no scenario $s (have: ${all_scenarios[*]})" >&2
		exit 2
	fi
done

dists=()
[ ${#kernels[@]} -eq 0 ] && kernels=(all)
for k in "${kernels[@]}"; do
	case $k in
	all) dists+=(bookworm sid) ;;
	6.1 | stable | bookworm) dists+=(bookworm) ;;
	new | sid | unstable) dists+=(sid) ;;
	*) echo "vm/run.sh: unknown kernel $k (want 6.1, new or all)" >&2; exit 2 ;;
	esac
done

if [ "$(id -u)" -ne 0 ]; then
	echo "vm/run.sh: must run as root (9p export of / and namespaces)" >&2
	echo "vmtest: 0 passed, 1 failed"
	exit 1
fi
"$here/deps.sh" || { echo "vmtest: 0 passed, 1 failed"; exit 1; }

# One run at a time per cache: the run files, the boot images and the logs
# are shared, and two suites at once would only slow each other down.
exec 9>"$cache/.lock"
if ! flock -n 9; then
	echo "vm/run.sh: another run holds $cache/.lock; waiting (at most ${NFTFLOW_VM_LOCK_WAIT:-900} s)"
	if ! flock -w "${NFTFLOW_VM_LOCK_WAIT:-900}" 9; then
		echo "vm/run.sh: still locked; giving up"
		echo "vmtest: 0 passed, 1 failed"
		exit 1
	fi
fi

t_start=$(date +%s)
passed=0
failed=0
skipped=0
summary=()
mkdir -p "$cache/run" "$cache/logs"

# boot DIST TREE INITRD: boots one kernel with the run file of DIST; the
# console goes to stdout; writes the qemu status and the time taken to
# $cache/logs/DIST.status.
boot() {
	local dist=$1 tree=$2 initrd=$3 t0 t1 qrc
	t0=$(date +%s%N)
	timeout -k 10 "$boot_timeout" qemu-system-x86_64 -accel tcg -m 1024 -smp 1 \
		-nodefaults -nographic -serial stdio -monitor none -no-reboot \
		-kernel "$tree/vmlinuz" -initrd "$initrd" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		-append "console=ttyS0 panic=-1 quiet nftflow.run=$cache/run/$dist.sh nftflow.bin=$nftflow_bin nftflow.sha=$nftflow_sha" \
		</dev/null 2>&1 | tr -d '\r'
	qrc=${PIPESTATUS[0]}
	t1=$(date +%s%N)
	echo "$qrc $(((t1 - t0) / 1000000))" >"$cache/logs/$dist.status"
}

# The nftflow binary under test travels inside the initramfs (a cpio
# appended to the cached one), so the guest runs a snapshot: a rebuild of
# bin/nftflow during the run cannot reach it, and neither can a page that
# 9p serves wrong. Its sha256 lets the guest compare the 9p view too.
nftflow_sha=none
bin_cpio=
if [ -x "$nftflow_bin" ]; then
	stage=$(mktemp -d)
	mkdir -p "$stage/nftflow"
	cp "$nftflow_bin" "$stage/nftflow/nftflow"
	nftflow_sha=$(sha256sum "$stage/nftflow/nftflow" | cut -d' ' -f1)
	bin_cpio=$cache/run/nftflow.cpio
	(cd "$stage" && find nftflow | cpio -o -H newc --quiet) >"$bin_cpio"
	rm -rf "$stage"
fi

# Fetch the kernels and build the initramfs images first (apt, sequential).
ready=()
declare -A trees kvers
for dist in "${dists[@]}"; do
	echo "== vmtest: kernel $dist"
	if ! tree=$("$here/fetch.sh" "$dist"); then
		echo "FAIL [$dist] fetch: could not fetch the $dist kernel"
		failed=$((failed + 1))
		continue
	fi
	kver=$(cat "$tree/.kver")
	initrd=$cache/initrd-$kver.gz
	if [ ! -f "$initrd" ] || [ "$here/init" -nt "$initrd" ] || [ "$here/mkinitrd.sh" -nt "$initrd" ]; then
		if ! "$here/mkinitrd.sh" "$tree" "$initrd"; then
			echo "FAIL [$kver] initrd: could not build the initramfs"
			failed=$((failed + 1))
			continue
		fi
	fi
	# The boot's initramfs: the cached one, zero-padded to a multiple of 4
	# bytes (the kernel looks for a following cpio header only there), then
	# the binary's cpio.
	img=$cache/run/initrd-$dist.img
	cp "$initrd" "$img"
	pad=$(((4 - $(stat -c %s "$img") % 4) % 4))
	head -c "$pad" /dev/zero >>"$img"
	if [ -n "$bin_cpio" ]; then cat "$bin_cpio" >>"$img"; fi
	{
		echo "#!/bin/bash"
		echo "# written by vm/run.sh: what the $dist VM runs"
		printf 'exec /bin/bash %q' "$here/guest.sh"
		printf ' %q' "${scenarios[@]}"
		echo
	} >"$cache/run/$dist.sh"
	trees[$dist]=$tree
	kvers[$dist]=$kver
	ready+=("$dist")
done

# Drop the initramfs images of kernels no longer cached.
for f in "$cache"/initrd-*.gz; do
	[ -e "$f" ] || continue
	k=${f##*/initrd-}
	k=${k%.gz}
	compgen -G "$cache/kernels/*-$k" >/dev/null || rm -f "$f"
done

# Boot: one kernel streams its console; several boot side by side (TCG
# uses one host core per VM) and their consoles are printed as each ends.
for dist in "${ready[@]}"; do rm -f "$cache/logs/$dist.status"; done
if [ ${#ready[@]} -eq 1 ] || [ "$jobs" -le 1 ]; then
	for dist in "${ready[@]}"; do
		boot "$dist" "${trees[$dist]}" "$cache/run/initrd-$dist.img" | tee "$cache/logs/$dist.log"
	done
else
	pids=()
	for dist in "${ready[@]}"; do
		boot "$dist" "${trees[$dist]}" "$cache/run/initrd-$dist.img" >"$cache/logs/$dist.log" &
		pids+=($!)
	done
	for i in "${!ready[@]}"; do
		wait "${pids[$i]}"
		echo "== vmtest: console of ${ready[$i]} (${kvers[${ready[$i]}]})"
		cat "$cache/logs/${ready[$i]}.log"
	done
fi

for dist in "${ready[@]}"; do
	kver=${kvers[$dist]}
	log=$cache/logs/$dist.log
	read -r qrc ms <"$cache/logs/$dist.status" || { qrc=unknown; ms=0; }
	p=$(grep -ac '^PASS \[' "$log")
	f=$(grep -ac '^FAIL \[' "$log")
	s=$(grep -ac '^SKIP \[' "$log")
	exit_line=$(grep -a '^NFTFLOW-VM-EXIT ' "$log" | tail -1)
	if [ -z "$exit_line" ]; then
		echo "FAIL [$kver] boot: the VM gave no exit marker (qemu exit $qrc; 124 = timed out after ${boot_timeout}s); log in $log"
		f=$((f + 1))
	elif [ "${exit_line#NFTFLOW-VM-EXIT }" != 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL [$kver] boot: the guest exited ${exit_line#NFTFLOW-VM-EXIT } without a FAIL line; log in $log"
		f=$((f + 1))
	fi
	if [ "$f" -gt 0 ]; then
		# Keep the console of a failed boot past the next run.
		keep=$cache/logs/$dist-failed-$(date -u +%Y%m%dT%H%M%S).log
		cp "$log" "$keep"
		echo "  (console kept in $keep)"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	summary+=("$kver: $p passed, $f failed, $s skipped in $((ms / 1000)).$(((ms % 1000) / 100)) s (boot and scenarios)")
done

echo "== vmtest summary"
for l in "${summary[@]}"; do echo "  $l"; done
echo "  total $(($(date +%s) - t_start)) s"
echo "vmtest: $passed passed, $failed failed, $skipped skipped"
if [ "$failed" -gt 0 ] || [ "$passed" -eq 0 ]; then
	exit 1
fi
