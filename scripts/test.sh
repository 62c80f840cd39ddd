#!/bin/bash
# The whole test suite: install what is needed, build (warnings are errors), run every
# test as root and as uid 65534, then again under ASan+UBSan with clang (plus short
# libFuzzer runs), then clang-tidy.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --test
jobs=$(nproc)

echo "== build (release, -Werror)"
scripts/build.sh build
echo "== tests"
(cd build && ctest --output-on-failure -j "$jobs")

# The sanitizer tree is a clang build, which also checks the code compiles warning-free
# with clang, and carries the libFuzzer targets (ctest runs fuzz.policy_short there).
echo "== build (clang, ASan + UBSan, fuzzers)"
CC=clang CXX=clang++ scripts/build.sh build-asan -DAJ_SANITIZE=ON -DAJ_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug
echo "== tests under ASan + UBSan, short fuzz runs"
# Not here: the uid-65534 reruns (the release tree runs them) and the qemu VM test: in the
# 1 GiB guest, ASan's shadow mappings fail under the sandbox's RLIMIT_AS ("Failed to
# mmap") before the command is exec'd; the release tree runs the VM test.
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure -j "$jobs" -E '^(nobody|vm)\.')

# clang-tidy with the checked-in .clang-tidy over every project .cpp file in the release
# tree's compile_commands.json (-j over the available cores). Any finding fails the run.
echo "== clang-tidy"
# A copy of the database without the precompiled-header flags: clang cannot read g++'s
# .gch files, and each source includes what it needs anyway.
mkdir -p build/tidy
python3 - <<'PY'
import json, re
cmds = json.load(open("build/compile_commands.json"))
for c in cmds:
    c["command"] = re.sub(r" -include \S*cmake_pch\.hxx(?=\s)", "", c["command"])
json.dump(cmds, open("build/tidy/compile_commands.json", "w"), indent=1)
PY
run-clang-tidy-14 -p build/tidy -j "$jobs" -quiet "^$(pwd)/(policy|helper|runner|oci|tests|bench)/.*\.cpp\$" \
  >build/clang-tidy.log 2>&1 || {
  grep -E 'warning:|error:' -A3 build/clang-tidy.log || tail -20 build/clang-tidy.log
  echo "clang-tidy: findings above (full log: build/clang-tidy.log)" >&2
  exit 1
}
echo "== all tests passed"
