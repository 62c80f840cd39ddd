#!/bin/bash
# Start the aurora-jail host daemon and wait until it is serving. With systemd: its unit.
# Without (a container, a user's session, the prototype's hosts): `aurora-jail host
# --daemonize --pidfile`, the same daemon and heartbeat, logging to STATE/logs/host.log.
# Usage: start.sh [--timeout S] [--state-dir D] [--queue-dir D] [--no-systemd]
# Exit 0 when healthy, 1 otherwise. $AJ_BIN overrides the aurora-jail binary.
set -euo pipefail

aj=${AJ_BIN:-aurora-jail}
unit=aurora-jail-host.service
timeout=30
state_dir=
queue_dir=
use_systemd=1
while [ $# -gt 0 ]; do
    case $1 in
        --timeout) timeout=${2:?--timeout needs seconds}; shift 2 ;;
        --state-dir) state_dir=${2:?--state-dir needs a directory}; shift 2 ;;
        --queue-dir) queue_dir=${2:?--queue-dir needs a directory}; shift 2 ;;
        --no-systemd) use_systemd=0; shift ;;
        *) echo "usage: $0 [--timeout S] [--state-dir D] [--queue-dir D] [--no-systemd]" >&2; exit 2 ;;
    esac
done
here=$(cd "$(dirname "$0")" && pwd)
# The unit serves root's default state directory; anything else is a daemon of our own.
if [ -n "$state_dir$queue_dir" ] || [ "$(id -u)" != 0 ] || [ ! -d /run/systemd/system ]; then
    use_systemd=0
fi

if [ "$use_systemd" = 0 ]; then
    if [ -z "$state_dir" ]; then
        if [ "$(id -u)" = 0 ]; then state_dir=/var/lib/aurora-jail
        else state_dir=${XDG_STATE_HOME:-$HOME/.local/state}/aurora-jail; fi
    fi
    pidfile=$state_dir/host.pid
    if [ -s "$pidfile" ] && "$here/stop.sh" --state-dir "$state_dir" --check >/dev/null 2>&1; then
        echo "aurora-jail start: already running (pid $(cat "$pidfile"))"
        exit 0
    fi
    # Returns once the daemon holds the queue's lock and serves (or with its error).
    "$aj" host --daemonize --pidfile "$pidfile" --state-dir "$state_dir" ${queue_dir:+--queue-dir "$queue_dir"}
    for ((i = 0; i < timeout; i++)); do
        if "$here/health-check.sh" --allow-degraded --quiet --state-dir "$state_dir" --no-unit; then
            echo "aurora-jail start: host daemon started and serving (pid $(cat "$pidfile"), log $state_dir/logs/host.log)"
            exit 0
        fi
        sleep 1
    done
    "$here/health-check.sh" --allow-degraded --state-dir "$state_dir" --no-unit || true
    echo "aurora-jail start: FAIL: host daemon not healthy after ${timeout}s (see $state_dir/logs/host.log)" >&2
    exit 1
fi
systemctl start "$unit"
# Healthy = active, a fresh heartbeat; isolation problems are reported, not fatal here.
for ((i = 0; i < timeout; i++)); do
    if "$here/health-check.sh" --allow-degraded --quiet; then
        echo "aurora-jail start: $unit started and serving"
        exit 0
    fi
    sleep 1
done
"$here/health-check.sh" --allow-degraded || true
echo "aurora-jail start: FAIL: $unit not healthy after ${timeout}s" \
     "(journalctl -u $unit)" >&2
exit 1
