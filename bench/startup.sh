#!/bin/bash
# Startup cost, side by side: `aurora-jail run -- /bin/true` against bwrap with equivalent
# isolation (the command line in ../shared/examples/peers.md) and against bare /bin/true.
# Usage: bench/startup.sh [AURORA_JAIL_BINARY]   (default: build/runner/aurora-jail)
# Uses hyperfine (-N --warmup 5 -r 50; `scripts/deps.sh --bench` installs it); without
# it, a plain timing loop of 50 runs. Prints medians in ms and ratios to bare.
set -euo pipefail
cd "$(dirname "$0")/.."
aj=$(realpath "${1:-build/runner/aurora-jail}")
[ -x "$aj" ] || { echo "startup.sh: $aj not built (scripts/build.sh build)" >&2; exit 1; }

declare -A cmds
names=(bare aurora-jail bwrap)
cmds[bare]="/bin/true"
cmds[aurora-jail]="$aj run -- /bin/true"
# bwrap with the same namespaces, a read-only /usr (+ the merged-/usr links), fresh /proc,
# minimal /dev, tmpfs /tmp, a new session and die-with-parent. aurora-jail additionally
# loads a seccomp filter, drops the bounding set and sets rlimits: it does strictly more.
bw_links=""
for l in lib lib64 bin sbin; do
  [ -L /$l ] && bw_links+=" --symlink $(readlink /$l) /$l"
done
if command -v bwrap >/dev/null; then
  cmds[bwrap]="bwrap --unshare-all --unshare-user --die-with-parent --new-session --ro-bind /usr /usr$bw_links --proc /proc --dev /dev --tmpfs /tmp /bin/true"
else
  names=(bare aurora-jail)
  echo "startup.sh: bwrap not installed; comparing with bare only" >&2
fi

for n in "${names[@]}"; do
  ${cmds[$n]} || { echo "startup.sh: '$n' does not run here: ${cmds[$n]}" >&2; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if command -v hyperfine >/dev/null; then
  args=()
  for n in "${names[@]}"; do args+=(-n "$n" "${cmds[$n]}"); done
  hyperfine -N --warmup 5 -r 50 --style none --export-json "$tmp/out.json" "${args[@]}" >/dev/null
else
  echo "startup.sh: hyperfine not installed; using a plain timing loop" >&2
  pairs=()
  for n in "${names[@]}"; do pairs+=("$n" "${cmds[$n]}"); done
  python3 - "$tmp/out.json" "${pairs[@]}" <<'PY'
import json, shlex, subprocess, sys, time, statistics
out, rest = sys.argv[1], sys.argv[2:]
res = []
for name, cmd in zip(rest[0::2], rest[1::2]):
    argv = shlex.split(cmd)
    for _ in range(5): subprocess.run(argv, check=True)
    times = []
    for _ in range(50):
        t = time.perf_counter(); subprocess.run(argv, check=True); times.append(time.perf_counter() - t)
    res.append({"command": name, "median": statistics.median(times)})
json.dump({"results": res}, open(out, "w"))
PY
fi

python3 - "$tmp/out.json" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
med = {r["command"]: r["median"] * 1000 for r in res}
bare = med["bare"]
print(f"{'command':<14}{'median ms':>10}{'x bare':>9}")
for name, ms in med.items():
    print(f"{name:<14}{ms:>10.2f}{ms / bare:>9.1f}")
if "bwrap" in med:
    print(f"aurora-jail / bwrap: {med['aurora-jail'] / med['bwrap']:.2f}")
PY
