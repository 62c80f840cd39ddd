#!/bin/bash
# Host daemon throughput and latency, with real sandboxes.
#   bench/daemon.sh [AURORA_JAIL_BINARY] [REQUESTS] [WORKERS] [BASELINE_BINARY] [WARM]
# For each configuration (BASELINE_BINARY first when given, e.g. an older build, so that
# every set of figures comes from one run on one machine, with its own defaults; then
# AURORA_JAIL_BINARY without a pool, `host --warm 0`; then, when WARM > 0 (default 2),
# AURORA_JAIL_BINARY with `host --warm WARM`, the warm pool, the daemon's default):
# stages a trivial plugin in a temp state dir, starts `aurora-jail host`, then
#  1. idle latency: 30 sequential `submit --wait` of /bin/true on an idle daemon, each
#     timed from before the client starts to its exit (median, p90, p99, min), and the
#     same run started directly (`run --plugin --rm`) after each: the daemon path's cost
#     as a ratio, which a busy machine distorts less than the milliseconds;
#  2. throughput: REQUESTS (default 300) queued while the daemon is stopped, then served:
#     sandboxed runs/s from daemon start to the last response;
#  3. under load: REQUESTS submitted at once by 4 submitters while the daemon serves;
#     runs/s from the first submit to the last response, and the submit->response latency
#     (response "ts" minus the submit time encoded in the request name: p50, p99).
set -euo pipefail
cd "$(dirname "$0")/.."
aj=${1:-build/runner/aurora-jail}
n=${2:-300}
workers=${3:-2}
baseline=${4:-}
warm=${5:-2}
for b in "$aj" ${baseline:+"$baseline"}; do
  [ -x "$b" ] || { echo "bench/daemon.sh: no binary at $b (build first: scripts/build.sh build)" >&2; exit 1; }
done
aj=$(readlink -f "$aj")
[ -z "$baseline" ] || baseline=$(readlink -f "$baseline")
tmp=$(mktemp -d /tmp/aj-bench.XXXXXX)
chmod 755 "$tmp"
host_pid=
cleanup() {
  if [ -n "$host_pid" ]; then kill -TERM "$host_pid" 2>/dev/null || true; wait "$host_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# Waits until the daemon logged that it serves (its log is $1).
wait_serving() {
  for _ in $(seq 500); do grep -q "serving " "$1" 2>/dev/null && return 0; sleep 0.01; done
  echo "bench/daemon.sh: the daemon did not start: $(tail -n 3 "$1")" >&2; exit 1
}

# bench_binary BINARY LABEL [HOST OPTIONS...]: the three measurements for one aurora-jail.
bench_binary() {
  local bin=$1 label=$2 state=$tmp/$2/state log=$tmp/$2/host.log
  shift 2
  local host_opts=("$@")
  mkdir -p "$tmp/$label/pkg"
  printf '{"id":"bench.true","name":"bench","version":"1","entrypoint":["/bin/true"]}' > "$tmp/$label/pkg/manifest.json"
  "$bin" stage --state-dir "$state" "$tmp/$label/pkg" >/dev/null
  "$bin" run --state-dir "$state" --plugin bench.true --rm || { echo "bench/daemon.sh: sandbox does not work here" >&2; exit 1; }

  "$bin" host --state-dir "$state" --workers "$workers" ${host_opts[@]+"${host_opts[@]}"} 2>"$log" &
  host_pid=$!
  wait_serving "$log"
  sleep 0.2

  echo "== $label: $bin${host_opts[*]+ ${host_opts[*]}}"
  echo "-- idle latency: 30 sequential submit --wait (/bin/true), each followed by a direct run"
  for _ in $(seq 30); do
    s=$(date +%s.%N)
    "$bin" submit --state-dir "$state" --plugin bench.true --wait 2>/dev/null
    e=$(date +%s.%N)
    "$bin" run --state-dir "$state" --plugin bench.true --rm
    r=$(date +%s.%N)
    echo "$s $e $r"
  done | python3 -c '
import sys, statistics
rows = [tuple(map(float, l.split())) for l in sys.stdin]
d = sorted(e - s for s, e, _ in rows)
direct = statistics.median(r - e for _, e, r in rows)
q = lambda p: d[min(len(d) - 1, int(len(d) * p))]
print(f"   median {statistics.median(d)*1000:.1f} ms   p90 {q(0.9)*1000:.1f} ms   p99 {q(0.99)*1000:.1f} ms   min {d[0]*1000:.1f} ms")
print(f"   the same plugin by `run --plugin --rm`, interleaved: median {direct*1000:.1f} ms (daemon path {statistics.median(d)/direct:.2f}x)")'

  echo "-- throughput: $n requests queued, then served ($workers workers)"
  kill -TERM "$host_pid"; wait "$host_pid" || true; host_pid=
  rm -f "$state"/queue/responses/*
  for _ in $(seq "$n"); do "$bin" submit --state-dir "$state" --plugin bench.true >/dev/null; done
  start=$(date +%s.%N)
  # Under GNU time: the CPU of the daemon and of every process it (or its launcher) ran,
  # a figure a busy machine distorts far less than the wall clock.
  /usr/bin/time -f "%U %S" -o "$tmp/$label/cpu" "$bin" host --state-dir "$state" --workers "$workers" ${host_opts[@]+"${host_opts[@]}"} 2>>"$log" &
  local time_pid=$!
  while [ "$(ls "$state/queue/responses" | wc -l)" -lt "$n" ]; do
    [ -n "$host_pid" ] || host_pid=$(pgrep -P "$time_pid" || true)
    sleep 0.01
  done
  end=$(date +%s.%N)
  [ -n "$host_pid" ] || host_pid=$(pgrep -P "$time_pid")
  kill -TERM "$host_pid"; wait "$time_pid" || true; host_pid=
  read -r user sys < "$tmp/$label/cpu"
  python3 -c "print(f'   $n sandboxed runs in {$end-$start:.2f} s = {$n/($end-$start):.1f} runs/s; CPU {($user+$sys)*1000/$n:.1f} ms a run (daemon and all its processes)')"
  "$bin" host --state-dir "$state" --workers "$workers" ${host_opts[@]+"${host_opts[@]}"} 2>"$log" &
  host_pid=$!
  wait_serving "$log"

  echo "-- under load: $n requests from 4 concurrent submitters"
  rm -f "$state"/queue/responses/*
  start=$(date +%s.%N)
  per=$(( (n + 3) / 4 ))
  local submitters=()
  for _ in 1 2 3 4; do
    ( for _ in $(seq "$per"); do "$bin" submit --state-dir "$state" --plugin bench.true >/dev/null; done ) &
    submitters+=($!)
  done
  wait "${submitters[@]}"
  total=$(( per * 4 ))
  while [ "$(ls "$state/queue/responses" | wc -l)" -lt "$total" ]; do sleep 0.01; done
  end=$(date +%s.%N)
  python3 - "$state/queue/responses" "$start" "$end" "$total" <<'PY'
import json, os, sys, statistics
d, start, end, total = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
lat, errors = [], 0
for f in os.listdir(d):
    r = json.load(open(os.path.join(d, f)))
    if f.endswith(".error.json") or r.get("rc") != 0:
        errors += 1
    submitted_ms = int(r["request"].split("-")[1])
    lat.append(r["ts"] - submitted_ms / 1000.0)
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(len(lat) * p))]
print(f"   {total} sandboxed runs in {end-start:.2f} s = {total/(end-start):.1f} runs/s ({errors} errors)")
print(f"   submit->response latency under load: p50 {statistics.median(lat)*1000:.0f} ms, p99 {q(0.99)*1000:.0f} ms")
PY
  kill -TERM "$host_pid"; wait "$host_pid" || true; host_pid=
}

echo "== host daemon benchmark: $(nproc) cores, $workers workers, kernel $(uname -r)"
[ -z "$baseline" ] || bench_binary "$baseline" baseline
bench_binary "$aj" current --warm 0
[ "$warm" -eq 0 ] || bench_binary "$aj" current-warm --warm "$warm"
