#!/bin/bash
# The large programs real users run, under the built-in default policy and under a policy
# `aurora-jail learn` wrote for each (tests/workloads/workloads.sh holds the cases; ctest
# runs the small ones on every CI run). Prints one line per workload and mode.
# Usage (from a checkout, after scripts/deps.sh --bench):  bash bench/workloads.sh [AURORA_JAIL]
set -uo pipefail
cd "$(dirname "$0")/.."
aj=${1:-build/runner/aurora-jail}
[ -x "$aj" ] || { echo "bench/workloads.sh: no aurora-jail at $aj (build first or pass its path)" >&2; exit 2; }
failed=0
printf '| workload | default policy | learned policy |\n|---|---|---|\n'
for w in java node go lzma vi ssh_keygen numpy convert cc_make python_ssl whoami openssl_req alternatives_awk; do
  row="| $w |"
  for mode in "" --learned; do
    out=$(tests/workloads/workloads.sh "$aj" "$w" $mode 2>&1); rc=$?
    case $rc in
      0) row+=" ok |" ;;
      77) row+=" skipped: $(echo "$out" | sed -n 's/.*SKIP: //p' | head -1) |" ;;
      *) row+=" FAILED: $(echo "$out" | tail -1) |"; failed=1 ;;
    esac
  done
  echo "$row"
done
exit $failed
