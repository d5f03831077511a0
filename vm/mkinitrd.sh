#!/usr/bin/env bash
# mkinitrd.sh: builds the busybox initramfs that boots one fetched kernel for
# the VM test bed.
#
#   vm/mkinitrd.sh TREE OUT
#
# TREE is a kernel tree unpacked by vm/fetch.sh; OUT the initramfs to write
# (cpio newc, gzip). The initramfs holds a static busybox, vm/init as /init,
# and the modules the tests need, decompressed, with their dependencies in
# load order (modules/order), as `modprobe --show-depends` reports them.
set -euo pipefail

tree=${1:?usage: mkinitrd.sh TREE OUT}
out=${2:?usage: mkinitrd.sh TREE OUT}
here=$(cd "$(dirname "$0")" && pwd)
kver=$(cat "$tree/.kver")
busybox=${NFTFLOW_VM_BUSYBOX:-/bin/busybox}

log() { echo "vm/mkinitrd: $*" >&2; }

if ! file -L "$busybox" 2>/dev/null | grep -q 'statically linked'; then
	# Without `file`, trust ldd's verdict.
	if ldd "$busybox" >/dev/null 2>&1; then
		log "$busybox is not static (install busybox-static)"; exit 1
	fi
fi

# The modules the guest loads, in this order; each is expanded to its
# dependencies. Missing modules (built in, or absent from this kernel) are
# skipped: the scenarios check for the features they need.
modules=(
	virtio_pci 9pnet_virtio 9p overlay
	nfnetlink nf_tables nf_conntrack nf_conntrack_netlink
	nf_flow_table nf_flow_table_inet nf_flow_table_ipv4 nf_flow_table_ipv6
	nft_flow_offload nft_ct nft_counter nft_nat nft_masq nft_chain_nat
	nft_reject nft_reject_inet nft_limit nft_fib_inet nft_fib_ipv4
	nft_queue nft_hash nft_numgen nft_meta_bridge veth tunnel4 ip_tunnel ipip
)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{bin,dev,proc,sys,host,modules}
cp "$busybox" "$work/bin/busybox"
cp "$here/init" "$work/init"
chmod 755 "$work/init"

seen=" "
: >"$work/modules/order"
for m in "${modules[@]}"; do
	if ! deps=$(modprobe --show-depends -d "$tree" -S "$kver" "$m" 2>/dev/null); then
		log "$m: not in $kver, skipped"
		continue
	fi
	while read -r kind path _; do
		[ "$kind" = insmod ] || continue
		name=$(basename "$path")
		name=${name%.xz}
		name=${name%.zst}
		name=${name%.gz}
		case $seen in *" $name "*) continue ;; esac
		seen="$seen$name "
		case $path in
		*.ko.xz) xz -dc "$path" >"$work/modules/$name" ;;
		*.ko.zst) zstd -qdc "$path" >"$work/modules/$name" ;;
		*.ko.gz) gzip -dc "$path" >"$work/modules/$name" ;;
		*) cp "$path" "$work/modules/$name" ;;
		esac
		echo "$name" >>"$work/modules/order"
	done <<<"$deps"
done
(cd "$work" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
log "$out: $(wc -l <"$work/modules/order") modules for $kver"
