#!/bin/bash
# ctest vm.project_quota: the disk budget's project quotas on a real file system that has
# them. Usage: project-quota-test.sh BUILD_DIR FILE...   (FILE: aurora-jail, aj_vm_runas,
# aj_vm_quota; env: AJVM_* as for vmtest.sh)
# Makes a 64 MiB ext4 image with the quota and project features (mkfs.ext4, no root
# needed), fetches the modules Debian's kernel keeps ext4, quotas, loop and overlayfs in,
# and boots one VM running tests/vm/run-project-quota.sh. Exit 77 (skip) without qemu,
# mkfs.ext4 or the kernel and its modules.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: project-quota-test.sh BUILD_DIR FILE...}" && pwd)
shift
out=$build/vm-project-quota
skip() { echo "vm.project_quota: SKIP: $*"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed (scripts/deps.sh --test)"
mkfs=$(command -v mkfs.ext4 || echo /sbin/mkfs.ext4)
[ -x "$mkfs" ] || skip "mkfs.ext4 not installed (e2fsprogs)"
mkdir -p "$out"

# One kernel download serves every VM test (vm.cgroup2's cache).
kernel=${AJVM_KERNEL:-$("$here/get-kernel.sh" "$build/vm/kernel")} || skip "no kernel image could be fetched"
mods=(lib/crc16.ko crypto/crc32c_generic.ko fs/mbcache.ko fs/jbd2/jbd2.ko fs/ext4/ext4.ko
      fs/quota/quota_tree.ko fs/quota/quota_v2.ko drivers/block/loop.ko fs/overlayfs/overlay.ko)
moddir=$("$here/get-modules.sh" "$out/modules" "$kernel" "${mods[@]}") || skip "no kernel modules could be fetched"
version=$(basename "$kernel"); version=${version#vmlinuz-}
files=()
for m in "${mods[@]}"; do files+=(-b "$moddir/lib/modules/$version/kernel/$m"); done

img=$out/quota.img
rm -f "$img"
truncate -s 64M "$img"
"$mkfs" -q -F -O quota,project -E quotatype=prjquota -I 256 "$img"
for f in "$@" "$img"; do files+=(-b "$f"); done

exec "$here/vmtest.sh" -o "$out" -r "$here/run-project-quota.sh" -k "$kernel" -t "${AJVM_TIMEOUT:-300}" "${files[@]}"
