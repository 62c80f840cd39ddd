#!/bin/bash
# ctest vm.systemd: BUILD_DIR/vm-systemd holds the cached root file system and the kernel.
# Usage: systemd-test.sh BUILD_DIR   (env: CMAKE_COMMAND; AJVM_* as for vmtest.sh)
# Boots Debian 12 with systemd as PID 1 under qemu (Debian's kernel, the whole root file
# system as the initramfs, copied onto a tmpfs by tests/vm/systemd/init) and runs
# tests/vm/systemd/run in it as a system service (with tests/vm/systemd/oci-v2: aurora-runc
# on cgroup v2). Exit 77 (skip) when qemu, mmdebstrap,
# root or Debian's registry is unavailable.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: systemd-test.sh BUILD_DIR}" && pwd)
out=$build/vm-systemd
skip() { echo "vm.systemd: SKIP: $*"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed (scripts/deps.sh --test)"
command -v cpio >/dev/null || skip "cpio not installed"
[ "$(id -u)" = 0 ] || skip "building the root file system needs root"
mkdir -p "$out"

t0=$(date +%s)
arch=$(dpkg --print-architecture)
rm -f "$build"/aurora-jail_*_"$arch".deb
"${CMAKE_COMMAND:-cmake}" --build "$build" --target deb >"$out/deb.log" 2>&1 || { tail -20 "$out/deb.log"; exit 1; }
deb=$(ls "$build"/aurora-jail_*_"$arch".deb)
t1=$(date +%s)
rc=0
rootfs=$("$here/mkrootfs-systemd.sh" "$out" "$deb") || rc=$?
[ $rc -eq 77 ] && skip "no Debian root file system (see above)"
[ $rc -eq 0 ] || exit 1
t2=$(date +%s)

# The kernel is vm.cgroup2's (one download serves both); overlayfs, a module in Debian's
# kernel, is loaded in the guest the way a host loads it (the kernel asks modprobe).
kernel=${AJVM_KERNEL:-$("$here/get-kernel.sh" "$build/vm/kernel")} || skip "no kernel image could be fetched"
modules=$("$here/get-modules.sh" "$build/vm/kernel" "$kernel" fs/overlayfs/overlay.ko) || skip "no kernel modules could be fetched"

# This run's files, as a second cpio appended to the cached one (the kernel unpacks
# concatenated archives in order).
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/ajvm" "$stage/etc/systemd/system/multi-user.target.wants"
# Beneath usr/: the image's /lib is a symbolic link (merged /usr), which an archive entry
# "lib" would replace.
mkdir -p "$stage/usr"
cp -a "$modules/lib" "$stage/usr/"
install -m 755 "$here/systemd/init" "$stage/init"
install -m 755 "$here/systemd/run" "$stage/ajvm/run"
install -m 755 "$here/systemd/oci-v2" "$stage/ajvm/oci-v2"
install -m 644 "$deb" "$stage/ajvm/aurora-jail.deb"
# aurora-runc's bundle is busybox static (tests/oci/common.sh's); without it the guest says
# why those checks do not run.
if file -L /bin/busybox 2>/dev/null | grep -q 'statically linked'; then
    install -m 755 /bin/busybox "$stage/ajvm/busybox"
fi
install -m 644 "$here/systemd/ajvm-test.service" "$stage/etc/systemd/system/ajvm-test.service"
ln -s ../ajvm-test.service "$stage/etc/systemd/system/multi-user.target.wants/ajvm-test.service"
# The console is the test's output: no login prompt on it.
ln -s /dev/null "$stage/etc/systemd/system/serial-getty@ttyS0.service"
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$out/overlay.cpio"
cat "$rootfs" "$out/overlay.cpio" > "$out/initrd.cpio"
echo "vm.systemd: package $((t1 - t0)) s, root file system $((t2 - t1)) s ($(basename "$rootfs"))"

AJVM_MEM=${AJVM_MEM:-2048} exec "$here/vmtest.sh" -o "$out" -i "$out/initrd.cpio" -k "$kernel" -t "${AJVM_TIMEOUT:-600}" \
    -a "systemd.show_status=false systemd.log_level=warning"
