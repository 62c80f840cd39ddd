#!/bin/bash
# Host daemon throughput and latency, with real sandboxes.
#   bench/daemon.sh [AURORA_JAIL_BINARY] [REQUESTS] [WORKERS]
# Stages a trivial plugin in a temp state dir, starts `aurora-jail host`, then
#  1. latency: 30 sequential `submit --wait` of /bin/true on an idle daemon (median, p90);
#  2. throughput: REQUESTS (default 300) queued while the daemon is stopped, then served:
#     sandboxed runs/s from daemon start to the last response;
#  3. under load: REQUESTS submitted at once by 4 submitters while the daemon serves;
#     runs/s from the first submit to the last response, and the median submit->response
#     latency (response "ts" minus the submit time encoded in the request name).
set -euo pipefail
cd "$(dirname "$0")/.."
aj=${1:-build/runner/aurora-jail}
n=${2:-300}
workers=${3:-2}
[ -x "$aj" ] || { echo "bench/daemon.sh: no binary at $aj (build first: scripts/build.sh build)" >&2; exit 1; }
aj=$(readlink -f "$aj")
tmp=$(mktemp -d /tmp/aj-bench.XXXXXX)
chmod 755 "$tmp"
host_pid=
cleanup() {
  if [ -n "$host_pid" ]; then kill -TERM "$host_pid" 2>/dev/null || true; wait "$host_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

state=$tmp/state
mkdir -p "$tmp/pkg"
printf '{"id":"bench.true","name":"bench","version":"1","entrypoint":["/bin/true"]}' > "$tmp/pkg/manifest.json"
"$aj" stage --state-dir "$state" "$tmp/pkg" >/dev/null
"$aj" run --state-dir "$state" --plugin bench.true --rm || { echo "bench/daemon.sh: sandbox does not work here" >&2; exit 1; }

"$aj" host --state-dir "$state" --workers "$workers" 2>"$tmp/host.log" &
host_pid=$!
sleep 0.5

echo "== host daemon benchmark: $(nproc) cores, $workers workers, kernel $(uname -r)"
echo "-- idle latency: 30 sequential submit --wait (/bin/true), seconds"
for i in $(seq 30); do
  s=$(date +%s.%N)
  "$aj" submit --state-dir "$state" --plugin bench.true --wait 2>/dev/null
  e=$(date +%s.%N)
  echo "$s $e"
done | python3 -c '
import sys, statistics
d = sorted(float(e) - float(s) for s, e in (l.split() for l in sys.stdin))
print(f"   median {statistics.median(d)*1000:.1f} ms   p90 {d[int(len(d)*0.9)-1]*1000:.1f} ms   min {d[0]*1000:.1f} ms")'

echo "-- throughput: $n requests queued, then served"
kill -TERM "$host_pid"; wait "$host_pid" || true; host_pid=
rm -f "$state"/queue/responses/*
for i in $(seq "$n"); do "$aj" submit --state-dir "$state" --plugin bench.true >/dev/null; done
start=$(date +%s.%N)
"$aj" host --state-dir "$state" --workers "$workers" 2>>"$tmp/host.log" &
host_pid=$!
while [ "$(ls "$state/queue/responses" | wc -l)" -lt "$n" ]; do sleep 0.02; done
end=$(date +%s.%N)
python3 -c "print(f'   $n sandboxed runs in {$end-$start:.2f} s = {$n/($end-$start):.1f} runs/s')"

echo "-- under load: $n requests from 4 concurrent submitters"
rm -f "$state"/queue/responses/*
start=$(date +%s.%N)
per=$(( (n + 3) / 4 ))
for s in 1 2 3 4; do
  ( for i in $(seq "$per"); do "$aj" submit --state-dir "$state" --plugin bench.true >/dev/null; done ) &
done
wait $(jobs -p | grep -v "^$host_pid$") 2>/dev/null || true
total=$(( per * 4 ))
while [ "$(ls "$state/queue/responses" | wc -l)" -lt "$total" ]; do sleep 0.05; done
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
print(f"   {total} sandboxed runs in {end-start:.2f} s = {total/(end-start):.1f} runs/s ({errors} errors)")
print(f"   submit->response latency under load: median {statistics.median(lat)*1000:.0f} ms, p90 {lat[int(len(lat)*0.9)-1]*1000:.0f} ms")
PY
