#!/bin/bash
# Runs the installed aurora-jail the way aurora-jail-host.service confines it, without
# systemd: the file-system part of the unit (ProtectSystem=strict + ReadWritePaths,
# PrivateTmp, PrivateDevices, ProtectHome) rebuilt in a private mount namespace, and its
# CapabilityBoundingSet + NoNewPrivileges applied with setpriv. The seccomp-based options
# (SystemCallFilter, RestrictNamespaces, RestrictAddressFamilies) need systemd and are
# not emulated. Then: a sandboxed command, staging a plugin, a plugin run, and the host
# daemon answering a submitted request.
#
# Usage: unshare --mount --propagation private unit_emulation.sh UNIT_FILE SCRATCH_DIR
# (called by deb_test.sh as root, after the package is installed; SCRATCH_DIR is an
# empty directory the caller removes afterwards).
set -euo pipefail

unit_file=${1:?usage: unit_emulation.sh UNIT_FILE SCRATCH_DIR}
scratch=${2:?usage: unit_emulation.sh UNIT_FILE SCRATCH_DIR}
aj=/usr/bin/aurora-jail
state=/var/lib/aurora-jail
say() { printf 'unit emulation: %s\n' "$*"; }
fail() { printf 'unit emulation: FAIL: %s\n' "$*" >&2; exit 1; }

value() { sed -n "s/^$1=//p" "$unit_file" | tail -1; }
[ "$(value NoNewPrivileges)" = yes ] || fail "unit lacks NoNewPrivileges=yes"
[ "$(value ProtectSystem)" = strict ] || fail "unit lacks ProtectSystem=strict"
[ "$(value ReadWritePaths)" = "$state" ] || fail "unit's ReadWritePaths is not $state"
# The host uid leases of root callers' sandboxes (helper/id_pool.hpp) live there.
runtime=/run/aurora-jail
[ "$(value RuntimeDirectory)" = aurora-jail ] || fail "unit lacks RuntimeDirectory=aurora-jail"
[ "$(value RuntimeDirectoryPreserve)" = yes ] || fail "unit lacks RuntimeDirectoryPreserve=yes"
caps=$(value CapabilityBoundingSet | tr '[:upper:]' '[:lower:]' | sed 's/cap_/+/g; s/ /,/g')
[ -n "$caps" ] || fail "unit has no CapabilityBoundingSet"

mount --make-rprivate /
# Where the new /dev is assembled before it is moved into place.
mount -t tmpfs -o mode=0700 tmpfs "$scratch"

# PrivateDevices=yes: a tmpfs /dev with only the pseudo devices (+ pts, shm).
mkdir "$scratch/dev"
mount -t tmpfs -o nosuid,noexec,mode=0755 tmpfs "$scratch/dev"
for d in null zero full random urandom tty; do
    touch "$scratch/dev/$d"
    mount --bind "/dev/$d" "$scratch/dev/$d"
done
mkdir "$scratch/dev/pts" "$scratch/dev/shm"
mount --rbind /dev/pts "$scratch/dev/pts"
mount -t tmpfs -o nosuid,nodev tmpfs "$scratch/dev/shm"
ln -s /proc/self/fd "$scratch/dev/fd"
mount --move "$scratch/dev" /dev

# PrivateTmp=yes
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /tmp
# ProtectHome=yes: inaccessible
for d in /home /root /run/user; do
    if [ -d "$d" ]; then mount -t tmpfs -o ro,mode=000 tmpfs "$d"; fi
done
# ReadWritePaths and RuntimeDirectory: their own mounts, so the read-only pass below can
# leave them writable.
mount --bind "$state" "$state"
mkdir -p -m 0755 "$runtime"
mount --bind "$runtime" "$runtime"
# ProtectSystem=strict: every mount read-only except the API file systems.
findmnt -rn -o TARGET | sort -u | while read -r m; do
    m=$(printf '%b' "$m")  # findmnt -r escapes blanks as \x20
    case $m in
        /dev | /dev/* | /proc | /proc/* | /sys | /sys/* | /tmp | "$state" | "$runtime") continue ;;
    esac
    mount -o remount,bind,ro "$m" 2>/dev/null || true
done
touch /usr/.aj-probe 2>/dev/null && fail "the emulation left /usr writable"
touch "$state/.aj-probe" || fail "the emulation made $state read-only"
rm -f "$state/.aj-probe"

confined() { setpriv --no-new-privs --bounding-set "-all,$caps" -- "$@"; }
say "bounding set $caps, no_new_privs, read-only system, private /tmp and /dev"

out=$(confined "$aj" run -- /bin/sh -c 'id -u; echo ok > /tmp/x; cat /tmp/x; test -c /dev/null')
say "run: $(tr '\n' ' ' <<<"$out")"
[ "$(tail -1 <<<"$out")" = ok ] || fail "sandboxed command under the unit's confinement: $out"

pkg=/tmp/pkg
mkdir "$pkg"
printf '%s\n' '{"id": "aj.unit-test", "name": "unit test", "version": "1.0.0", "entrypoint": "run.sh"}' \
    >"$pkg/manifest.json"
printf '#!/bin/sh\necho "plugin says $*"\n' >"$pkg/run.sh"
chmod 0755 "$pkg/run.sh"
confined "$aj" stage --state-dir "$state" "$pkg"
out=$(confined "$aj" run --state-dir "$state" --plugin aj.unit-test -- /plugin/run.sh direct)
[ "$out" = "plugin says direct" ] || fail "plugin run: '$out'"
say "plugin run: $out"

# Not through the function: `confined ... &` would fork a subshell and $! would be its
# pid, not the daemon's (setpriv execs aurora-jail, keeping the pid).
setpriv --no-new-privs --bounding-set "-all,$caps" -- "$aj" host --state-dir "$state" >/tmp/host.log 2>&1 &
host_pid=$!
trap 'kill -KILL "$host_pid" 2>/dev/null || true' EXIT
# setpriv execs aurora-jail a moment later; on a loaded machine that moment can be long
# (a fixed 0.2 s wait failed there), so poll for up to 30 s.
for _ in $(seq 1 300); do
    [ "$(readlink "/proc/$host_pid/exe" 2>/dev/null)" = "$aj" ] && break
    sleep 0.1
done
[ "$(readlink "/proc/$host_pid/exe")" = "$aj" ] || fail "daemon pid $host_pid is not $aj"
out=$(timeout 60 "$aj" submit --state-dir "$state" --plugin aj.unit-test --wait -- /plugin/run.sh queued) \
    || fail "submit --wait: $out; daemon log: $(cat /tmp/host.log)"
[ "$out" = "plugin says queued" ] || fail "queued request answered '$out'"
say "host daemon answered: $out"
kill -TERM "$host_pid"
wait "$host_pid" || fail "daemon exited $? on SIGTERM; log: $(cat /tmp/host.log)"
trap - EXIT
say "daemon drained and exited 0 on SIGTERM"
