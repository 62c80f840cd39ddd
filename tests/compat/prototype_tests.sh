#!/bin/bash
# ctest `compat.prototype_tests[.nobody]`: the prototype's own tests, unchanged, against the
# compat layer (python/compat/loader over the aurora-jail CLI), with a fresh state
# directory. Usage: prototype_tests.sh SOURCE_DIR AURORA_JAIL_BINARY [--as-nobody]
# Exit 77 (skipped) without pytest, or for --as-nobody when not root.
set -euo pipefail
src=$1; aj=$2; as_nobody=${3:-}
tests=$src/tests/compat/prototype
# The first python3 with pytest: PATH's, else Debian's (python3-pytest).
py=
for candidate in "$(command -v python3 || true)" /usr/bin/python3; do
    if [ -n "$candidate" ] && "$candidate" -c 'import pytest' 2>/dev/null; then py=$candidate; break; fi
done
if [ -z "$py" ]; then
    echo "SKIP: python3-pytest is not installed (scripts/deps.sh installs it)"; exit 77
fi
# The copies in the repo must be the prototype's, byte for byte, when its files are here.
if [ -n "${AJ_PROTOTYPE_DIR:-}" ] && [ -d "$AJ_PROTOTYPE_DIR/tests" ]; then
    for f in test_sandbox.py test_jail_policy.py; do
        cmp "$AJ_PROTOTYPE_DIR/tests/$f" "$tests/$f" || { echo "FAIL: $tests/$f differs from the prototype's"; exit 1; }
    done
fi
if [ "$as_nobody" = --as-nobody ] && [ "$(id -u)" != 0 ]; then
    echo "SKIP: --as-nobody needs root to switch to uid 65534"; exit 77
fi
dir=$(mktemp -d /tmp/aj-compat.XXXXXX)
trap 'rm -rf "$dir"' EXIT
chmod 755 "$dir"   # a root caller's sandbox (uid 65534) reaches staged packages through it
mkdir "$dir/bin" "$dir/state" "$dir/tests"
cp "$aj" "$dir/bin/aurora-jail"
cp -r "$src/python" "$dir/python"
cp "$tests"/test_*.py "$dir/tests/"
chmod -R a+rX "$dir"
mkdir "$dir/tmp"
run=(env PATH="$dir/bin:/usr/bin:/bin" PYTHONPATH="$dir/python/compat:$dir/python"
     AURORA_JAIL_STATE_DIR="$dir/state" PYTHONDONTWRITEBYTECODE=1 HOME="$dir/tmp" TMPDIR="$dir/tmp"
     "$py" -m pytest -p no:cacheprovider -q "$dir/tests")
cd "$dir/tmp"
if [ "$as_nobody" = --as-nobody ]; then
    chown 65534:65534 "$dir/state" "$dir/tmp"
    setpriv --reuid 65534 --regid 65534 --clear-groups --reset-env "${run[@]}"
else
    "${run[@]}"
fi
