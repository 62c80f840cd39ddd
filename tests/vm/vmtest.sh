#!/bin/bash
# vmtest.sh -o OUT_DIR {-r RUN_SCRIPT [-b FILE]... | -i INITRD} [-k KERNEL] [-t SECS] [-a KERNEL_ARGS]
# Boots a Debian kernel under qemu-system-x86_64 (TCG: no KVM needed; AJVM_ACCEL=kvm to
# use it) with an initramfs built by mkinitramfs.sh, runs RUN_SCRIPT as root in the guest
# and exits with its status. With -i, boots INITRD as it is instead (a whole root file
# system whose /init reports "AJVM-RC=N" the same way: tests/vm/systemd-test.sh).
# 77: qemu, busybox or a kernel cannot be had (ctest SKIP);
# 124: the guest timed out; 125: the guest died without reporting.
# The kernel is fetched once into OUT_DIR/kernel (get-kernel.sh) unless -k is given.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out="" run="" initrd="" files=() kernel="${AJVM_KERNEL:-}" timeout=900 append=""
while getopts "o:r:b:k:t:a:i:" opt; do
    case $opt in
        o) out=$OPTARG ;; r) run=$OPTARG ;; b) files+=("$OPTARG") ;; k) kernel=$OPTARG ;;
        t) timeout=$OPTARG ;; a) append="$append $OPTARG" ;; i) initrd=$OPTARG ;;
        *) sed -n '2,10p' "$0" >&2; exit 2 ;;
    esac
done
[ -n "$out" ] && [ -n "$run$initrd" ] || { sed -n '2,10p' "$0" >&2; exit 2; }
skip() { echo "vmtest: SKIP: $*"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed (scripts/deps.sh installs qemu-system-x86)"
command -v cpio >/dev/null || skip "cpio not installed"
mkdir -p "$out"
if [ -z "$kernel" ]; then
    kernel=$("$here/get-kernel.sh" "$out/kernel") || skip "no kernel image could be fetched"
fi
[ -r "$kernel" ] || skip "kernel image $kernel is not readable"
if [ -z "$initrd" ]; then
    initrd="$out/initramfs.cpio.gz"
    rc=0
    "$here/mkinitramfs.sh" "$initrd" "$run" "${files[@]}" || rc=$?
    [ $rc -eq 77 ] && skip "no static busybox"
    [ $rc -eq 0 ] || exit 125
fi

accel=${AJVM_ACCEL:-tcg}
cpu=max; [ "$accel" = kvm ] && cpu=host
[ "$accel" = tcg ] && accel=tcg,thread=multi
log="$out/console.log"
rm -f "$log"
echo "vmtest: kernel $kernel, accel $accel, log $log"
start=$(date +%s)
set +e
timeout -k 10 "$timeout" qemu-system-x86_64 -nodefaults -no-user-config -display none -no-reboot \
    -machine pc -accel "$accel" -cpu "$cpu" -m "${AJVM_MEM:-1024}" -smp "${AJVM_SMP:-2}" \
    -kernel "$kernel" -initrd "$initrd" \
    -append "console=ttyS0 quiet panic=-1 loglevel=3 $append" \
    -chardev stdio,id=con,signal=off,logfile="$log" -serial chardev:con </dev/null
qrc=$?
set -e
guest=$(tr -d '\r' < "$log" | grep -aoE 'AJVM-RC=[0-9]+' | tail -1 | cut -d= -f2 || true)
echo "vmtest: $(( $(date +%s) - start )) s, qemu status $qrc, guest status ${guest:-none}"
if [ -z "$guest" ]; then
    [ $qrc -eq 124 ] && exit 124
    exit 125
fi
exit "$guest"
