#!/bin/sh
# Runs a libFuzzer binary for a bounded time. New corpus entries go to a directory in
# the build tree (never into the source tree); the seed directory is only read.
# Usage: run_fuzz.sh FUZZER CORPUS_DIR SEED_DIR DICT SECONDS
set -eu
fuzzer=$1 corpus=$2 seeds=$3 dict=$4 seconds=$5
mkdir -p "$corpus"
exec "$fuzzer" -max_total_time="$seconds" -max_len=8192 -rss_limit_mb=2048 -timeout=10 \
  -dict="$dict" -print_final_stats=1 "$corpus" "$seeds"
