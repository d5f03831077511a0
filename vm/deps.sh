#!/usr/bin/env bash
# deps.sh: installs from apt what the VM test bed needs, when missing.
set -euo pipefail
pkgs=()
need() { command -v "$1" >/dev/null 2>&1 || pkgs+=("$2"); }
need qemu-system-x86_64 qemu-system-x86
need cpio cpio
need modprobe kmod
need depmod kmod
need xz xz-utils
need zstd zstd
need gzip gzip
need dpkg-deb dpkg
need python3 python3
if ! file -L /bin/busybox 2>/dev/null | grep -q 'statically linked'; then pkgs+=(busybox-static); fi
need file file
if [ ! -f /usr/share/keyrings/debian-archive-keyring.gpg ]; then pkgs+=(debian-archive-keyring); fi
if [ ${#pkgs[@]} -gt 0 ]; then
	echo "vm/deps: installing ${pkgs[*]} from apt"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi
