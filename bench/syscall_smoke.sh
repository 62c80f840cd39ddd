#!/bin/bash
# ctest bench.syscall_cost: the syscall microbenchmark runs, bare and under aurora-jail's
# default policy, and prints a number for each call. No timing is asserted (timing goals
# live in bench/compare.sh): this only keeps the benchmark from rotting.
#   bench/syscall_smoke.sh AURORA_JAIL SYSCALL_COST_BINARY
set -euo pipefail
aj=$1 sc=$2
# A world-readable copy outside the build tree. --workdir must be writable by the
# sandbox: a root caller's sandbox (host ids leased for the run) reaches a directory owned
# by another account through an idmapped bind, so root gives it to nobody.
dir=$(mktemp -d "${TMPDIR:-/tmp}/aj-syscall-smoke.XXXXXX")
trap 'rm -rf "$dir"' EXIT
chmod 755 "$dir"
if [ "$(id -u)" = 0 ]; then chown 65534:65534 "$dir"; fi
install -m 755 "$sc" "$dir/syscall_cost"
check() {
  local what=$1 out
  shift
  out=$("$@") || { echo "FAIL: $what: exit status $?" >&2; exit 1; }
  printf '%s: %s\n' "$what" "$(echo "$out" | tr '\n' ' ')"
  for c in getppid read0 ioctl denied; do
    grep -Eq "^$c [0-9]+(\.[0-9]+)? ns/call$" <<<"$out" || { echo "FAIL: $what: no number for $c" >&2; exit 1; }
  done
}
check bare "$dir/syscall_cost" 20000
check aurora-jail "$aj" run --workdir "$dir" -- "$dir/syscall_cost" 20000
