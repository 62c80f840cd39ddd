#!/bin/bash
# Health of an aurora-jail installation:
#  1. `aurora-jail check`: can this host give full isolation (namespaces mode)?
#  2. the host daemon's unit is active (when systemd runs this system, the state directory
#     is the system one, /var/lib/aurora-jail, and --no-unit is not given: a daemon started
#     without systemd, `host --daemonize`, has no unit);
#  3. the daemon is alive and serving: it refreshes STATE_DIR/host.heartbeat from its
#     main loop, so a heartbeat older than --max-age means a dead or stuck daemon.
# STATE_DIR is the one aurora-jail itself uses for the caller: --state-dir, else
# $AURORA_JAIL_STATE_DIR, else /var/lib/aurora-jail for root, else the caller's own
# $XDG_STATE_HOME/aurora-jail (default ~/.local/state/aurora-jail).
# Usage: health-check.sh [--state-dir D] [--max-age S] [--allow-degraded] [--no-daemon]
#                        [--no-unit] [--quiet]
#   --allow-degraded  isolation problems (check exit 1) are warnings, not failures
#   --no-daemon       only step 1 (a host that runs `aurora-jail run` but no daemon)
# Exit 0 healthy, 1 unhealthy. $AJ_BIN overrides the aurora-jail binary.
set -euo pipefail

aj=${AJ_BIN:-aurora-jail}
unit=aurora-jail-host.service
system_state_dir=/var/lib/aurora-jail
if [ -n "${AURORA_JAIL_STATE_DIR:-}" ]; then
    state_dir=$AURORA_JAIL_STATE_DIR
elif [ "$(id -u)" = 0 ]; then
    state_dir=$system_state_dir
elif [[ ${XDG_STATE_HOME:-} == /* ]]; then  # a relative value is ignored (XDG spec)
    state_dir=$XDG_STATE_HOME/aurora-jail
else
    state_dir=${HOME:?HOME is not set; pass --state-dir DIR}/.local/state/aurora-jail
fi
max_age=30
allow_degraded=0
daemon=1
unit_check=1
quiet=0
while [ $# -gt 0 ]; do
    case $1 in
        --state-dir) state_dir=${2:?--state-dir needs a directory}; shift 2 ;;
        --max-age) max_age=${2:?--max-age needs seconds}; shift 2 ;;
        --allow-degraded) allow_degraded=1; shift ;;
        --no-daemon) daemon=0; shift ;;
        --no-unit) unit_check=0; shift ;;
        --quiet) quiet=1; shift ;;
        *) echo "usage: $0 [--state-dir D] [--max-age S] [--allow-degraded] [--no-daemon] [--no-unit] [--quiet]" >&2
           exit 2 ;;
    esac
done

status=0
ok() { [ "$quiet" = 1 ] || printf 'aurora-jail health: ok: %s\n' "$*"; }
warn() { [ "$quiet" = 1 ] || printf 'aurora-jail health: warning: %s\n' "$*" >&2; }
bad() { [ "$quiet" = 1 ] || printf 'aurora-jail health: FAIL: %s\n' "$*" >&2; status=1; }

set +e
check_out=$("$aj" check 2>&1)
check_rc=$?
set -e
case $check_rc in
    0) ok "full isolation available (aurora-jail check)" ;;
    1) if [ "$allow_degraded" = 1 ]; then
           warn "no full isolation on this host; runs would be rlimit-only or refused"
       else
           bad "no full isolation on this host (aurora-jail check):"
           [ "$quiet" = 1 ] || printf '%s\n' "$check_out" | sed 's/^/  /' >&2
       fi ;;
    *) bad "aurora-jail check failed (exit $check_rc): $check_out" ;;
esac

if [ "$daemon" = 1 ]; then
    # The packaged unit serves the system state directory only; a user's own daemon
    # (`aurora-jail host` run by that user) is judged by its heartbeat alone.
    if [ "$unit_check" = 1 ] && [ -d /run/systemd/system ] && [ "$state_dir" = "$system_state_dir" ]; then
        if systemctl is-active --quiet "$unit"; then
            ok "$unit active"
        else
            bad "$unit not active"
        fi
    fi
    hb=$state_dir/host.heartbeat
    if [ ! -e "$hb" ]; then
        bad "no heartbeat at $hb: the daemon never served from this state dir"
    else
        age=$(( $(date +%s) - $(stat -c %Y "$hb") ))
        # The daemon writes {"pid": N, ...} into it when it starts.
        pid=$(sed -n 's/.*"pid": *\([0-9][0-9]*\).*/\1/p' "$hb" | head -1)
        if [ "$age" -gt "$max_age" ]; then
            bad "heartbeat $hb is ${age}s old (limit ${max_age}s): daemon dead or stuck"
        elif [ -n "$pid" ] && [ ! -d "/proc/$pid" ]; then
            bad "heartbeat names pid $pid, which is not running: daemon dead"
        else
            ok "daemon serving (heartbeat ${age}s old${pid:+, pid $pid})"
        fi
    fi
fi
exit $status
