#!/bin/bash
# Runs a test binary as uid/gid 65534 with no supplementary groups, the way an ordinary
# user would run aurora-jail. The binaries are copied into a fresh world-readable directory
# under /tmp because the build tree may not be reachable by that uid.
# Usage: as_nobody.sh TEST_BINARY AURORA_JAIL_BINARY [gtest args...]
set -euo pipefail
test_bin=$1; aj_bin=$2; shift 2
if [ "$(id -u)" != 0 ]; then
  echo "as_nobody: SKIP: needs root to switch to uid 65534 (running as $(id -u))"
  exit 0
fi
dir=$(mktemp -d /tmp/aj-nobody.XXXXXX)
# Not `exec setpriv ...` below: exec would drop this trap and leave ~90 MB of binary
# copies in /tmp per run. The shell waits for the test and then removes the directory.
trap 'rm -rf "$dir"' EXIT
chmod 755 "$dir"
cp "$test_bin" "$dir/test"
cp "$aj_bin" "$dir/aurora-jail"
chmod 755 "$dir/test" "$dir/aurora-jail"
# aurora-runc, when built next to aurora-jail (build/oci/ beside build/runner/).
runc_bin=$(dirname "$aj_bin")/../oci/aurora-runc
runc_env=()
if [ -x "$runc_bin" ]; then
  cp "$runc_bin" "$dir/aurora-runc"; chmod 755 "$dir/aurora-runc"
  runc_env=(AJ_RUNC_BIN="$dir/aurora-runc")
fi
mkdir "$dir/work"; chown 65534:65534 "$dir/work"
cd "$dir/work"
setpriv --reuid 65534 --regid 65534 --clear-groups --reset-env \
  env AJ_BIN="$dir/aurora-jail" AJ_SOURCE_DIR="${AJ_SOURCE_DIR:-}" AJ_AS_NOBODY=1 TMPDIR="$dir/work" "${runc_env[@]}" \
  "$dir/test" "$@"
