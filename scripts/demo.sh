#!/bin/bash
# The main job: install what is needed, build, and run a command in a sandbox under the
# built-in default policy, showing that it is isolated.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh build
aj=build/runner/aurora-jail
echo "== aurora-jail policy show (the built-in default policy)"
$aj policy show
