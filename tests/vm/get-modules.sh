#!/bin/bash
# get-modules.sh CACHE_DIR KERNEL_IMAGE MODULE...: prints a directory holding
# lib/modules/VERSION/kernel/MODULE (e.g. fs/overlayfs/overlay.ko) for the Debian kernel
# KERNEL_IMAGE (vmlinuz-VERSION, as get-kernel.sh fetched it), extracted from the same
# linux-image-VERSION package once and kept in CACHE_DIR. The guest runs depmod and
# loads them as a host would (the kernel asks modprobe). Exit 77 when it cannot be had.
set -euo pipefail
cache=$(realpath -m "$1"); kernel=$2; shift 2
version=$(basename "$kernel"); version=${version#vmlinuz-}
dir="$cache/modules-$version"
have=1
for m in "$@"; do [ -e "$dir/lib/modules/$version/kernel/$m" ] || have=0; done
if [ $have = 1 ]; then echo "$dir"; exit 0; fi
command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || { echo "get-modules: no apt-get/dpkg-deb" >&2; exit 77; }
mkdir -p "$cache"
work=$(mktemp -d "$cache/.mod.XXXXXX")
trap 'rm -rf "$work"' EXIT
( cd "$work" && apt-get download -q "linux-image-$version" >&2 ) ||
    { echo "get-modules: apt-get download linux-image-$version failed" >&2; exit 77; }
mkdir "$work/root"
wanted=()
for m in "$@"; do wanted+=("./lib/modules/$version/kernel/$m"); done
dpkg-deb --fsys-tarfile "$work"/*.deb | tar -x -C "$work/root" "${wanted[@]}"
rm -rf "$dir"
mv "$work/root" "$dir"
echo "$dir"
