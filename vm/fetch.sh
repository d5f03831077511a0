#!/usr/bin/env bash
# fetch.sh: downloads and unpacks the Debian kernel packages the VM test bed
# boots, into the project's own cache (.cache/vm), without touching the
# system's apt configuration.
#
#   vm/fetch.sh DIST        DIST is bookworm or sid
#
# Prints the unpacked tree's directory (.cache/vm/kernels/DIST-VERSION) on
# stdout. Downloads only when the cache does not hold the current version.
set -euo pipefail

dist=${1:?usage: fetch.sh bookworm|sid}
here=$(cd "$(dirname "$0")" && pwd)
cache=${NFTFLOW_VM_CACHE:-$here/../.cache/vm}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
apt_dir=$cache/apt
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
mirror=${NFTFLOW_VM_MIRROR:-http://deb.debian.org/debian}

log() { echo "vm/fetch: $*" >&2; }

case $dist in
bookworm | sid) ;;
*) log "unknown distribution $dist (want bookworm or sid)"; exit 2 ;;
esac

d=$apt_dir/$dist
mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/etc/preferences.d" "$d/debs"
echo "deb [arch=amd64 signed-by=$keyring] $mirror $dist main" >"$d/etc/sources.list"

apt_opts=(
	-o "Dir::Etc::sourcelist=$d/etc/sources.list"
	-o "Dir::Etc::sourceparts=-"
	-o "Dir::Etc::preferencesparts=$d/etc/preferences.d"
	-o "Dir::State::Lists=$d/lists"
	-o "Dir::Cache=$d/cache"
	-o "Dir::State::status=/dev/null"
	-o "APT::Get::List-Cleanup=0"
	-o "APT::Architecture=amd64"
	-o "APT::Architectures::=amd64"
	-o "Debug::NoLocking=1"
	-o "APT::Sandbox::User=root"
)

# Refresh the private lists at most once every 12 hours.
stamp=$d/lists/.updated
if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +720)" ]; then
	log "apt-get update ($dist)"
	if apt-get "${apt_opts[@]}" -qq update >&2; then
		touch "$stamp"
	elif ls "$d/lists/"*Packages* >/dev/null 2>&1; then
		log "update failed; using the cached lists"
	else
		log "apt-get update failed for $dist"; exit 1
	fi
fi

# The metapackage names the real image package in its Depends, e.g.
# linux-image-6.1.0-37-amd64 (bookworm) or linux-image-6.19.3+deb14-amd64 (sid).
meta_dep=$(apt-cache "${apt_opts[@]}" depends linux-image-amd64 2>/dev/null |
	awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
if [ -z "$meta_dep" ]; then
	log "cannot resolve linux-image-amd64 in $dist"; exit 1
fi
kver=${meta_dep#linux-image-}
# Newer kernels split the image into linux-binary-, linux-modules- and
# linux-base- packages that the image package depends on: take the closure of
# the dependencies that carry the kernel version in their name.
pkgs=()
queue=("$meta_dep")
while [ ${#queue[@]} -gt 0 ]; do
	p=${queue[0]}
	queue=("${queue[@]:1}")
	case " ${pkgs[*]-} " in *" $p "*) continue ;; esac
	pkgs+=("$p")
	for dep in $(apt-cache "${apt_opts[@]}" depends "$p" 2>/dev/null |
		awk '/^ *\|?Depends: linux-/ {print $2}' | grep -F -- "$kver" || true); do
		queue+=("$dep")
	done
done
ver=$(apt-cache "${apt_opts[@]}" show "$meta_dep" 2>/dev/null | awk '/^Version:/ {print $2; exit}')
log "$dist: kernel $kver ($ver): ${pkgs[*]}"

tree=$cache/kernels/$dist-$kver
if [ ! -f "$tree/.unpacked" ]; then
	(cd "$d/debs" && rm -f ./*.deb && apt-get "${apt_opts[@]}" -qq download "${pkgs[@]}" >&2)
	rm -rf "$tree"
	mkdir -p "$tree"
	for deb in "$d/debs/"*.deb; do
		dpkg-deb -x "$deb" "$tree"
	done
	# Newer packages are merged-/usr (usr/lib/modules); kmod here looks in
	# lib/modules.
	if [ ! -e "$tree/lib" ] && [ -d "$tree/usr/lib/modules" ]; then
		ln -s usr/lib "$tree/lib"
	fi
	# The image package ships modules.order/builtin but not always the
	# generated maps; build them in the unpacked tree.
	depmod -b "$tree" "$kver"
	for k in "$tree/boot/vmlinuz-$kver" "$tree/lib/modules/$kver/vmlinuz"; do
		if [ -f "$k" ]; then ln -sfn "${k#"$tree"/}" "$tree/vmlinuz"; fi
	done
	if [ ! -e "$tree/vmlinuz" ]; then log "no vmlinuz in $pkgs"; exit 1; fi
	echo "$kver" >"$tree/.kver"
	echo "${pkgs[*]} $ver" >"$tree/.package"
	touch "$tree/.unpacked"
	rm -f "$d/debs/"*.deb
fi
echo "$tree"
