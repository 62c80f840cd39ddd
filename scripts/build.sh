#!/bin/bash
# Configures and builds one tree. Usage: scripts/build.sh BUILD_DIR [cmake options...]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$1; shift
cmake -S . -B "$dir" -G Ninja -DAJ_WERROR=ON "$@" >/dev/null
cmake --build "$dir" -j "$(nproc)"
