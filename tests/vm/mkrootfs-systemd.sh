#!/bin/bash
# mkrootfs-systemd.sh CACHE_DIR DEB: prints the path of an uncompressed cpio of a Debian 12
# root file system with systemd as init, a D-Bus user session, PAM's pam_systemd, kmod, an
# ordinary user "u" (uid 1000) and every package DEB depends on, so that `dpkg -i DEB`
# works offline in the guest. Built once with mmdebstrap from Debian's registry (the
# host's apt sources) and kept in CACHE_DIR under a name keyed on its package list, so
# reruns reuse it. Exit 77 when it cannot be had (no mmdebstrap, no root, no registry).
set -euo pipefail
cache=$(realpath -m "$1"); deb=$2
skip() { echo "mkrootfs-systemd: $*" >&2; exit 77; }
command -v mmdebstrap >/dev/null || skip "mmdebstrap not installed (scripts/deps.sh --test installs it)"
command -v cpio >/dev/null || skip "cpio not installed"
[ "$(id -u)" = 0 ] || skip "building the image needs root (mmdebstrap --mode=root)"

# The package's Depends, without versions or alternatives ("libc6 (>= 2.34), a | b").
deb_depends=$(dpkg-deb --field "$deb" Depends | tr ',' '\n' | sed -E 's/\|.*//; s/\(.*\)//; s/[[:space:]]//g' | grep -v '^$')
packages=$(printf '%s\n' systemd systemd-sysv dbus dbus-user-session libpam-systemd passwd kmod $deb_depends | sort -u)
key=$(printf '%s\n' bookworm "$packages" | sha256sum | cut -c1-16)
image="$cache/rootfs-systemd-$key.cpio"
if [ -s "$image" ]; then echo "$image"; exit 0; fi

mkdir -p "$cache"
work=$(mktemp -d "$cache/.rootfs.XXXXXX")
trap 'rm -rf "$work"' EXIT
start=$(date +%s)
# Documentation, manuals and translations are not needed to boot and cost a third of
# the image. mmdebstrap mounts /proc, /sys and /dev inside the target: in a private mount
# namespace, so none of it touches the host's mounts.
unshare --mount --propagation private mmdebstrap --mode=root --variant=essential \
    --include="$(printf '%s' "$packages" | tr '\n' ',')" \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --customize-hook='chroot "$1" useradd --create-home --uid 1000 --shell /bin/sh u' \
    --customize-hook='echo ajvm > "$1/etc/hostname"' \
    --customize-hook='rm -f "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*_Packages' \
    bookworm "$work/root" >"$work/mmdebstrap.log" 2>&1 ||
    { tail -20 "$work/mmdebstrap.log" >&2; skip "mmdebstrap failed (no access to Debian's registry?)"; }
# cpio keeps the owners as they are (we are root): the guest needs root-owned files
# and u's home.
(cd "$work/root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet) > "$work/image.cpio"
mv "$work/image.cpio" "$image"
echo "mkrootfs-systemd: built $(basename "$image") ($(du -m "$image" | cut -f1) MiB) in $(( $(date +%s) - start )) s" >&2
echo "$image"
