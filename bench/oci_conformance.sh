#!/bin/bash
# The OCI runtime-tools validation suite against runc and aurora-runc, side by side, in one run.
#
# Usage (as root, from a checkout):  bash bench/oci_conformance.sh [options]
#   -o FILE          write the Markdown table here (default bench/OCI.md; - = none)
#   --runc-bin B     the aurora-runc under test (default build/oci/aurora-runc)
#   --reference B    the reference runtime (default: runc on PATH)
#   --suite DIR      a suite already built by ../shared/oci-runtime-tools/build.sh (default:
#                    build one in a temporary directory; needs golang-go)
#   --tools DIR      the oci-runtime-tools checkout (default $AJ_OCI_TOOLS or ../shared/oci-runtime-tools
#                    beside the checkout)
#
# Each validation builds a busybox bundle, drives the runtime's runc-style CLI and prints
# TAP; run-suite.sh judges it (exit 0, at least one ok, no not ok). The acceptance line of
# issue 16 is "every validation runc passes here, aurora-runc passes too": the table lists
# the validations where that does not hold. Not part of ctest (minutes, needs root and Go).
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/OCI.md
ours=build/oci/aurora-runc
ref=$(command -v runc || true)
suite=
tools=${AJ_OCI_TOOLS:-$(cd .. && pwd)/shared/oci-runtime-tools}
[ -d "$tools" ] || tools=/work/shared/oci-runtime-tools
while [ $# -gt 0 ]; do
  case $1 in
    -o) out=$2; shift 2 ;;
    --runc-bin) ours=$2; shift 2 ;;
    --reference) ref=$2; shift 2 ;;
    --suite) suite=$2; shift 2 ;;
    --tools) tools=$2; shift 2 ;;
    *) echo "bench/oci_conformance.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "bench/oci_conformance.sh: needs root (the validations create containers as root)" >&2; exit 1; }
[ -x "$ours" ] || { echo "bench/oci_conformance.sh: no aurora-runc at $ours (build it: cmake --build build --target aurora-runc)" >&2; exit 1; }
[ -n "$ref" ] && [ -x "$ref" ] || { echo "bench/oci_conformance.sh: no reference runc (apt-get install runc)" >&2; exit 1; }
[ -x "$tools/run-suite.sh" ] || { echo "bench/oci_conformance.sh: no run-suite.sh in $tools" >&2; exit 1; }
ours=$(readlink -f "$ours")
ref=$(readlink -f "$ref")

tmp=$(mktemp -d /tmp/aj-oci-conformance.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
if [ -z "$suite" ]; then
  command -v go >/dev/null || { echo "bench/oci_conformance.sh: no Go toolchain (apt-get install golang-go)" >&2; exit 1; }
  suite=$tmp/suite
  nice "$tools/build.sh" "$suite"
fi

# The validations make their bundles with Go's os.MkdirTemp, below $TMPDIR: here a 0700
# directory of root's, as engines keep their containers' storage (podman's, containerd's),
# for both runtimes alike. aurora-runc idmaps a rootfs only there (docs/oci.md, "The
# container's root"): below a /tmp every user may search, a file the container made set-uid
# would be host root's and theirs to run, and killsig and process then fail by design.
bundles=$tmp/bundles
mkdir -m 0700 "$bundles"

# Mounts a runtime left in this (the host's) mount namespace below the validations'
# bundles ($bundles/ocitest*, and /tmp/ocitest* of a suite that ignores TMPDIR): counted
# for the report, then unmounted, each tree whole. Only those trees: they were made by
# this run's validations, and nothing else lives there.
leaked_mounts() {
  local roots
  roots=$(awk -v b="$bundles" '$5 ~ "^(/tmp|"b")/ocitest[0-9]+$" {print $5}' /proc/self/mountinfo | sort -u)
  local n
  n=$(awk -v b="$bundles" '$5 ~ "^(/tmp|"b")/ocitest[0-9]+(/|$)" {c++} END {print c+0}' /proc/self/mountinfo)
  for r in $roots; do umount -R "$r" 2>/dev/null || umount -R -l "$r" 2>/dev/null || true; done
  echo "$n"
}
leaked_before=$(leaked_mounts)

# The validations ask for cgroups at fixed places (/cgrouptest, testdir/cgrouptest/...):
# each runtime's run gets a cgroup namespace of its own rooted below this process's cgroup
# (bench/in_cgroup_namespace.sh), so that none lands elsewhere. Removed, whole, afterwards.
. tests/oci/common.sh
base=$(awk -F: '{ if (length($3) > length(b)) b = $3 } END { print (b == "/" ? "" : b) }' /proc/self/cgroup)
runs_cgroup=$base/aj-oci-conformance-$$
remove_run_cgroups() {
  local h d
  for h in /sys/fs/cgroup/*/; do
    for d in $(find "$h${runs_cgroup#/}" -depth -type d 2>/dev/null); do rmdir "$d" 2>/dev/null || true; done
  done
  remove_cgroup_base
}
trap 'remove_run_cgroups; rm -rf "$tmp"' EXIT
make_cgroup_base "$base" || { echo "bench/oci_conformance.sh: cannot make $base in every hierarchy" >&2; exit 1; }

# The reference first, then aurora-runc, one after the other on the same machine.
TMPDIR=$bundles bench/in_cgroup_namespace.sh "$runs_cgroup/ref" "$tools/run-suite.sh" "$ref" "$suite" "$tmp/ref" >/dev/null
ref_leaked=$(leaked_mounts)
TMPDIR=$bundles bench/in_cgroup_namespace.sh "$runs_cgroup/ours" "$tools/run-suite.sh" "$ours" "$suite" "$tmp/ours" >/dev/null
ours_leaked=$(leaked_mounts)

verdict() { awk -v n="$2" '$2 == n {print $1" ("$3" "$4" "$5")"}' "$1/summary"; }
names=$(awk '{print $2}' "$tmp/ref/summary")
ref_pass=$(grep -c '^PASS' "$tmp/ref/summary" || true)
ours_pass=$(grep -c '^PASS' "$tmp/ours/summary" || true)
total=$(wc -l <"$tmp/ref/summary")
regressions=()
for n in $names; do
  if grep -q "^PASS $n " "$tmp/ref/summary" && ! grep -q "^PASS $n " "$tmp/ours/summary"; then regressions+=("$n"); fi
done

report() {
  echo "# OCI runtime conformance: runc and aurora-runc"
  echo
  echo "Generated by \`bash bench/oci_conformance.sh\` on $(date -u +%Y-%m-%dT%H:%MZ), $(uname -sr), $(nproc) cores."
  echo "Suite: opencontainers/runtime-tools validations (the oci-runtime-tools README); a validation passes when"
  echo "it exits 0 with at least one \`ok\` and no \`not ok\`."
  echo
  echo "| runtime | version | validations passed |"
  echo "|---|---|---|"
  echo "| runc | $("$ref" --version | head -1) | $ref_pass of $total |"
  echo "| aurora-runc | $("$ours" --version | head -1) | $ours_pass of $total |"
  echo
  echo "The validations' bundles lie in a 0700 directory of root's (TMPDIR), as engines keep theirs."
  echo
  echo "Mounts left in the host's mount namespace below the validations' bundles (ocitest*), counted after"
  echo "each runtime's run and then unmounted by this script: runc $ref_leaked, aurora-runc $ours_leaked"
  echo "(before the run: $leaked_before)."
  echo
  if [ ${#regressions[@]} -eq 0 ]; then
    echo "aurora-runc passes every validation runc passes here."
  else
    echo "Passed by runc, not by aurora-runc (${#regressions[@]}): ${regressions[*]}."
  fi
  echo
  echo "| validation | runc | aurora-runc |"
  echo "|---|---|---|"
  for n in $names; do echo "| $n | $(verdict "$tmp/ref" "$n") | $(verdict "$tmp/ours" "$n") |"; done
}
if [ "$out" = - ]; then report; else report >"$out"; echo "bench/oci_conformance.sh: wrote $out (runc $ref_pass, aurora-runc $ours_pass of $total)"; fi
