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

# update [force]: refreshes the private lists, at most once every 12 hours
# unless forced.
update() {
	local stamp=$d/lists/.updated
	if [ -z "${1:-}" ] && [ -f "$stamp" ] && [ -z "$(find "$stamp" -mmin +720)" ]; then
		return 0
	fi
	log "apt-get update ($dist)"
	if apt-get "${apt_opts[@]}" -qq update >&2; then
		touch "$stamp"
	elif ls "$d/lists/"*Packages* >/dev/null 2>&1; then
		log "update failed; using the cached lists"
	else
		log "apt-get update failed for $dist"
		return 1
	fi
}

# resolve: sets kver, ver and pkgs from the lists. The metapackage
# linux-image-amd64 names the real image package in its Depends, e.g.
# linux-image-6.1.0-37-amd64 (bookworm) or linux-image-7.2.13+deb14-amd64
# (sid). Newer kernels split the image into linux-binary-, linux-modules- and
# linux-base- packages that the image package depends on: take the closure of
# the dependencies that carry the kernel version in their name.
resolve() {
	local meta_dep p dep queue
	meta_dep=$(apt-cache "${apt_opts[@]}" depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	if [ -z "$meta_dep" ]; then
		log "cannot resolve linux-image-amd64 in $dist"
		return 1
	fi
	kver=${meta_dep#linux-image-}
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
}

download() {
	(cd "$d/debs" && rm -f ./*.deb && apt-get "${apt_opts[@]}" -qq download "${pkgs[@]}" >&2)
}

# unpack TREE: unpacks the downloaded packages into TREE and prepares it for
# modprobe -d and for booting.
unpack() {
	local tree=$1 deb k
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
	# The packages ship modules.order and modules.builtin, not always the
	# generated maps: build them in the unpacked tree.
	depmod -b "$tree" "$kver"
	for k in "$tree/boot/vmlinuz-$kver" "$tree/lib/modules/$kver/vmlinuz"; do
		if [ -f "$k" ]; then ln -sfn "${k#"$tree"/}" "$tree/vmlinuz"; fi
	done
	if [ ! -e "$tree/vmlinuz" ]; then
		log "no vmlinuz in ${pkgs[*]}"
		return 1
	fi
	echo "$kver" >"$tree/.kver"
	echo "${pkgs[*]} $ver" >"$tree/.package"
	touch "$tree/.unpacked"
	rm -f "$d/debs/"*.deb
}

# cached: the newest tree of this distribution already unpacked, if any.
cached() {
	local t
	t=$(ls -td "$cache/kernels/$dist-"*/.unpacked 2>/dev/null | head -1)
	[ -n "$t" ] && dirname "$t"
}

fallback() {
	local t
	if t=$(cached); then
		log "WARNING: $1; booting the cached $(basename "$t") instead"
		echo "$t"
		exit 0
	fi
	log "$1, and no $dist kernel is cached"
	exit 1
}

# resolve_cached: resolve, remembered until the lists change (apt-cache
# reads sid's big lists slowly).
resolve_cached() {
	local memo=$d/resolved
	if [ -f "$memo" ] && [ "$memo" -nt "$d/lists/.updated" ] && read -r kver ver pkgs_line <"$memo"; then
		read -ra pkgs <<<"$pkgs_line"
		[ ${#pkgs[@]} -gt 0 ] && return 0
	fi
	resolve || return 1
	echo "$kver $ver ${pkgs[*]}" >"$memo"
}

update || fallback "cannot update the $dist lists"
resolve_cached || fallback "cannot resolve the $dist kernel"
tree=$cache/kernels/$dist-$kver
if [ ! -f "$tree/.unpacked" ]; then
	# A kernel can leave the archive between two updates: refresh once.
	if ! download; then
		update force && resolve_cached || fallback "cannot resolve the $dist kernel"
		tree=$cache/kernels/$dist-$kver
		download || fallback "cannot download ${pkgs[*]}"
	fi
	unpack "$tree" || exit 1
	# Keep only the current kernel of this distribution.
	for old in "$cache/kernels/$dist-"*; do
		[ "$old" = "$tree" ] || rm -rf "$old"
	done
fi
echo "$tree"
