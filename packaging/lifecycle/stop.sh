#!/bin/bash
# Stop the aurora-jail host daemon on an installed system. It stops claiming requests
# and lets running sandboxes finish (bounded by the unit's TimeoutStopSec).
# Exit 0 when it is stopped (or was not running), 1 otherwise.
set -euo pipefail

unit=aurora-jail-host.service
if [ ! -d /run/systemd/system ]; then
    echo "aurora-jail stop: FAIL: systemd is not running here" >&2
    exit 1
fi
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
