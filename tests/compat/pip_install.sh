#!/bin/bash
# ctest `compat.pip_install`: python/ is pip-installable offline (stdlib only, no compiled
# code) and installs aurora_jail with the prototype's API as aurora_jail.compat.loader.
# Usage: pip_install.sh SOURCE_DIR. Exit 77 (skipped) without pip, setuptools and wheel.
set -euo pipefail
src=$1
py=
for candidate in "$(command -v python3 || true)" /usr/bin/python3; do
    if [ -n "$candidate" ] && "$candidate" -c 'import setuptools, wheel' 2>/dev/null && "$candidate" -m pip --version >/dev/null 2>&1; then py=$candidate; break; fi
done
[ -n "$py" ] || { echo "SKIP: pip, setuptools and wheel are not installed (python3-pip)"; exit 77; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp -r "$src/python" "$dir/src"
PIP_DISABLE_PIP_VERSION_CHECK=1 "$py" -m pip install -q --no-build-isolation --no-deps --no-index \
    --target "$dir/site" "$dir/src" 2>&1 | { grep -v "Running pip as the 'root' user" || true; }
so=$(find "$dir/site" -name '*.so' -o -name '*.c' | head -1)
[ -z "$so" ] || { echo "FAIL: compiled code in the Python package: $so"; exit 1; }
cd "$dir"
PYTHONPATH=$dir/site "$py" -c '
import aurora_jail, aurora_jail.queue
from aurora_jail.compat.loader.sandbox_runtime import SandboxRuntime
from aurora_jail.compat.loader.isolation_manager import IsolationManager
from aurora_jail.compat.loader.jail_policy import write_policy, load_policy, validate_policy
from aurora_jail.compat.loader.sandbox_host import main_loop
for m in (SandboxRuntime, "stage_package", "run_entry", "stop", "status"):
    assert m is SandboxRuntime or hasattr(SandboxRuntime, m), m
assert hasattr(IsolationManager, "stage_plugin") and hasattr(IsolationManager, "request_run")
print("pip install ok:", aurora_jail.__file__)'
