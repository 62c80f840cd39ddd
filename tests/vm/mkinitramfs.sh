#!/bin/bash
# mkinitramfs.sh OUT.cpio.gz RUN_SCRIPT [FILE...]: a busybox initramfs with tests/vm/init
# as PID 1, RUN_SCRIPT as /vmtest/run and each FILE in /vmtest/bin. Shared libraries of
# dynamic ELF files (ldd, including the loader) are copied to the same absolute paths so
# the host's build runs unchanged. Needs no root: cpio records every file as 0:0.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(realpath -m "$1"); run=$2; shift 2
busybox=${AJVM_BUSYBOX:-/bin/busybox}
if ldd "$busybox" >/dev/null 2>&1; then
    echo "mkinitramfs: $busybox is dynamically linked; install busybox-static" >&2; exit 77
fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/usr/bin "$root"/usr/sbin "$root"/usr/lib "$root"/usr/lib64 \
         "$root"/dev "$root"/proc "$root"/sys "$root"/tmp "$root"/run "$root"/root "$root"/etc "$root"/vmtest/bin
for d in bin sbin lib lib64; do ln -s usr/$d "$root/$d"; done
cp "$busybox" "$root/usr/bin/busybox"
for applet in $("$busybox" --list); do
    [ -e "$root/usr/bin/$applet" ] || ln -s busybox "$root/usr/bin/$applet"
done
install -m 755 "$here/init" "$root/init"
install -m 755 "$run" "$root/vmtest/run"
printf 'root:x:0:0::/root:/bin/sh\nuser:x:1000:1000::/tmp:/bin/sh\nnobody:x:65534:65534::/nonexistent:/bin/false\n' > "$root/etc/passwd"
printf 'root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n' > "$root/etc/group"
copy_libs() {
    { ldd "$1" 2>/dev/null || true; } |
        awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' |
        while read -r lib; do
            [ -e "$root$lib" ] && continue
            mkdir -p "$root$(dirname "$lib")"
            cp -L "$lib" "$root$lib"
        done
}
for f in "$@"; do
    install -m 755 "$f" "$root/vmtest/bin/$(basename "$f")"
    copy_libs "$f"
done
mkdir -p "$(dirname "$out")"
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 > "$out"
