#!/bin/bash
# Stop the aurora-jail host daemon. It stops claiming requests and lets running sandboxes
# finish. With systemd: its unit. Without (started by start.sh, `host --daemonize
# --pidfile`): the daemon named by STATE/host.pid, after checking that this pid really is
# an aurora-jail host (never a process found by name).
# Usage: stop.sh [--state-dir D] [--timeout S] [--no-systemd] [--check]
#   --check  only tell whether the pid file names a live host daemon (exit 0) or not (1)
# Exit 0 when it is stopped (or was not running), 1 otherwise.
set -euo pipefail

unit=aurora-jail-host.service
state_dir=
timeout=330   # the longest default run (300 s) and the daemon's grace
use_systemd=1
check_only=0
while [ $# -gt 0 ]; do
    case $1 in
        --state-dir) state_dir=${2:?--state-dir needs a directory}; shift 2 ;;
        --timeout) timeout=${2:?--timeout needs seconds}; shift 2 ;;
        --no-systemd) use_systemd=0; shift ;;
        --check) check_only=1; use_systemd=0; shift ;;
        *) echo "usage: $0 [--state-dir D] [--timeout S] [--no-systemd] [--check]" >&2; exit 2 ;;
    esac
done
if [ -n "$state_dir" ] || [ "$(id -u)" != 0 ] || [ ! -d /run/systemd/system ]; then
    use_systemd=0
fi

if [ "$use_systemd" = 1 ]; then
    if ! systemctl is-active --quiet "$unit"; then
        echo "aurora-jail stop: $unit was not running"
        exit 0
    fi
    systemctl stop "$unit"
    if systemctl is-active --quiet "$unit"; then
        echo "aurora-jail stop: FAIL: $unit still active" >&2
        exit 1
    fi
    echo "aurora-jail stop: $unit stopped"
    exit 0
fi

if [ -z "$state_dir" ]; then
    if [ "$(id -u)" = 0 ]; then state_dir=/var/lib/aurora-jail
    else state_dir=${XDG_STATE_HOME:-$HOME/.local/state}/aurora-jail; fi
fi
pidfile=$state_dir/host.pid
pid=$(sed -n '1{/^[0-9][0-9]*$/p}' "$pidfile" 2>/dev/null || true)
# Ours only when it is an aurora-jail binary running `host`: a stale pid file's number
# may belong to any process by now.
is_host() {
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    local exe args
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
    case ${exe##*/} in aurora-jail|aurora-jail\ \(deleted\)) ;; *) return 1 ;; esac
    args=$(tr '\0' '\n' < "/proc/$pid/cmdline" | sed -n 2p)
    [ "$args" = host ]
}
if [ "$check_only" = 1 ]; then
    is_host
    exit
fi
if ! is_host; then
    echo "aurora-jail stop: no host daemon running for $state_dir${pid:+ (stale pid file names $pid)}"
    exit 0
fi
kill -TERM "$pid"
for ((i = 0; i < timeout * 10; i++)); do
    is_host || { echo "aurora-jail stop: host daemon $pid stopped"; exit 0; }
    sleep 0.1
done
echo "aurora-jail stop: FAIL: host daemon $pid still running after ${timeout}s" >&2
exit 1
