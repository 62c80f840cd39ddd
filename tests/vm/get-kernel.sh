#!/bin/bash
# get-kernel.sh CACHE_DIR: prints the path of a Debian amd64 kernel image (vmlinuz),
# downloading the linux-image package once (apt-get download: no root, no install, no
# module tree) and keeping only vmlinuz in CACHE_DIR. Exit 77 when it cannot be had.
set -euo pipefail
cache=$(realpath -m "$1")
mkdir -p "$cache"
cached=$(ls -1v "$cache"/vmlinuz-* 2>/dev/null | tail -1 || true)
if [ -n "$cached" ]; then echo "$cached"; exit 0; fi
command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || { echo "get-kernel: no apt-get/dpkg-deb" >&2; exit 77; }
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
[ -n "$pkg" ] || { echo "get-kernel: apt knows no linux-image-amd64 (run apt-get update?)" >&2; exit 77; }
work=$(mktemp -d "$cache/.dl.XXXXXX")
trap 'rm -rf "$work"' EXIT
( cd "$work" && apt-get download -q "$pkg" >&2 ) || { echo "get-kernel: apt-get download $pkg failed" >&2; exit 77; }
dpkg-deb --fsys-tarfile "$work"/*.deb | tar -x -C "$work" --wildcards './boot/vmlinuz-*'
img=$(ls "$work"/boot/vmlinuz-*)
mv "$img" "$cache/"
echo "$cache/$(basename "$img")"
