#!/bin/bash
# Start the aurora-jail host daemon on an installed system and wait until it is serving.
# Usage: start.sh [--timeout S]   (default 30). Exit 0 when healthy, 1 otherwise.
set -euo pipefail

unit=aurora-jail-host.service
timeout=30
while [ $# -gt 0 ]; do
    case $1 in
        --timeout) timeout=${2:?--timeout needs seconds}; shift 2 ;;
        *) echo "usage: $0 [--timeout S]" >&2; exit 2 ;;
    esac
done
here=$(cd "$(dirname "$0")" && pwd)

if [ ! -d /run/systemd/system ]; then
    echo "aurora-jail start: FAIL: systemd is not running here; run" \
         "'aurora-jail host' under this system's service manager instead" >&2
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
