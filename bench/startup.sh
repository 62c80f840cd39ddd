#!/bin/bash
# Startup cost only: the startup section of bench/compare.sh (bare exec, aurora-jail with
# the default and a bwrap-equivalent policy, bwrap with and without seccomp, crun,
# firejail, unshare), printed and not written to bench/RESULTS.md.
#   bench/startup.sh [AURORA_JAIL_BINARY]   (default: build it in build-bench)
# Run as root for crun and firejail; as another user they are reported as skipped.
set -euo pipefail
args=(--only startup -o -)
[ $# -gt 0 ] && args+=(--aj "$1")
exec "$(dirname "$0")/compare.sh" "${args[@]}"
