#!/bin/bash
# Container start-up through aurora-runc, runc and crun, side by side in one run:
#   1. the runtime's own cycle (create, start, the process's exit, delete) of one busybox
#      bundle running /bin/true (bench/oci_cycle.py, interleaved pass by pass);
#   2. `podman run --rm IMAGE true` with each as podman's --runtime (bench/interleave.py).
# Writes bench/OCI_STARTUP.md (medians, ratios to runc). Not part of ctest (root, minutes).
#
# Usage (as root, from a checkout): bash bench/oci_startup.sh [-o FILE|-] [--runs N]
#        [--podman-runs N] [--aurora-runc B]
#
# This host's cgroups are hybrid: crun refuses the layout unless the cgroup2 mount is hidden
# and it makes no cgroup (--cgroup-manager=disabled). So everything runs in a private mount
# namespace with an empty tmpfs over /sys/fs/cgroup/unified (the same view for all three:
# aurora-runc and runc then see the v1 hierarchies only), and runc and aurora-runc place
# each container at linux.cgroupsPath below this process's own cgroup, which crun skips:
# crun's figures include no cgroup work, the others' do.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/OCI_STARTUP.md
runs=60
podman_runs=15
ours=build/oci/aurora-runc
while [ $# -gt 0 ]; do
  case $1 in
    -o) out=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --podman-runs) podman_runs=$2; shift 2 ;;
    --aurora-runc) ours=$2; shift 2 ;;
    --inner) shift; break ;;
    *) echo "bench/oci_startup.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "bench/oci_startup.sh: needs root (runc and crun create containers as root)" >&2; exit 1; }
for t in runc crun podman conmon; do
  command -v "$t" >/dev/null || { echo "bench/oci_startup.sh: $t is not installed (apt-get install $t)" >&2; exit 1; }
done
[ -x "$ours" ] || { echo "bench/oci_startup.sh: no aurora-runc at $ours" >&2; exit 1; }
ours=$(readlink -f "$ours")
runc=$(command -v runc)
crun=$(command -v crun)

if [ "${AJ_OCI_STARTUP_INNER:-}" != 1 ]; then
  # The private mount namespace (see above); this script again, inside it.
  exec env AJ_OCI_STARTUP_INNER=1 unshare -m --propagation private -- bash -c \
    'mount -t tmpfs -o size=4k,mode=755 none /sys/fs/cgroup/unified && exec bash "$0" "$@"' \
    "$0" -o "$out" --runs "$runs" --podman-runs "$podman_runs" --aurora-runc "$ours"
fi

. tests/oci/common.sh
tmp=$(mktemp -d /tmp/aj-oci-startup.XXXXXX)
base=$(awk -F: '{ if (length($3) > length(b)) b = $3 } END { print (b == "/" ? "" : b) }' /proc/self/cgroup)
parent=$base/aj-oci-startup-$$
P=(podman --root "$tmp/podman/root" --runroot "$tmp/podman/run" --storage-driver vfs --cgroup-manager cgroupfs
   --events-backend file --tmpdir "$tmp/podman/tmpdir")
cleanup() {
  "${P[@]}" rm -af -t 0 >/dev/null 2>&1 || true
  "${P[@]}" rmi -af >/dev/null 2>&1 || true
  remove_tree_with_mounts "$tmp"
  local h d
  for h in /sys/fs/cgroup/*/; do
    for d in $(find "$h${parent#/}" -depth -type d 2>/dev/null); do rmdir "$d" 2>/dev/null || true; done
  done
  remove_cgroup_base
}
trap cleanup EXIT
make_cgroup_base "$base" || { echo "bench/oci_startup.sh: cannot make $base in every hierarchy" >&2; exit 1; }

# The bundle: runc's default config (pid, net, ipc, uts, mount namespaces; read-only root),
# running /bin/true without a terminal, at a cgroup below this process's own.
bundle=$tmp/bundle
mkdir -p "$bundle"
busybox_rootfs_tar "$tmp" "$tmp/busybox.tar"
mkdir "$bundle/rootfs" && tar -C "$bundle/rootfs" -xf "$tmp/busybox.tar"
(cd "$bundle" && runc spec)
python3 - "$bundle/config.json" "$parent/c" <<'EOF'
import json, sys
path, cgroup = sys.argv[1], sys.argv[2]
c = json.load(open(path))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
c["linux"]["cgroupsPath"] = cgroup
json.dump(c, open(path, "w"), indent=1)
EOF

mkdir -p "$tmp/state/runc" "$tmp/state/crun" "$tmp/state/ours"
nice -n 0 python3 bench/oci_cycle.py --runs "$runs" --bundle "$bundle" --export-json "$tmp/cycle.json" \
  -n aurora-runc "$ours --root $tmp/state/ours" \
  -n runc "$runc --root $tmp/state/runc" \
  -n crun "$crun --root $tmp/state/crun --cgroup-manager=disabled"

"${P[@]}" import -q "$tmp/busybox.tar" aj-busybox >/dev/null
R=(run --rm --ulimit nofile=20000:20000 --ulimit nproc=4096:4096 --network none --cgroup-parent "$parent/podman" aj-busybox true)
python3 bench/interleave.py --runs "$podman_runs" --warmup 2 --export-json "$tmp/podman.json" \
  -n aurora-runc "${P[*]} --runtime $ours ${R[*]}" \
  -n runc "${P[*]} --runtime $runc ${R[*]}" \
  -n crun "${P[*]} --runtime $crun --runtime-flag cgroup-manager=disabled ${R[*]}"

report() {
  python3 - "$tmp/cycle.json" "$tmp/podman.json" "$runs" "$podman_runs" <<'EOF'
import json, statistics, sys
cycle, podman = (json.load(open(p))["results"] for p in sys.argv[1:3])
runs, podman_runs = sys.argv[3], sys.argv[4]
ms = lambda xs: statistics.median(xs) * 1e3
def table(results, title, n, phases):
    ref = next(r for r in results if r["command"] == "runc")
    print(f"### {title} ({n} interleaved passes)\n")
    head = "| runtime | median ms | ratio to runc |" + "".join(f" {p} ms |" for p in phases)
    print(head)
    print("|---" * (3 + len(phases)) + "|")
    for r in results:
        row = f"| {r['command']} | {ms(r['times']):.1f} | {ms(r['times']) / ms(ref['times']):.2f} |"
        row += "".join(f" {ms(r['phases'][p]):.1f} |" for p in phases)
        print(row)
    print()
table(cycle, "create + start + exit + delete of /bin/true", runs, ["create", "start", "run", "delete"])
table(podman, "podman run --rm IMAGE true", podman_runs, [])
EOF
}
{
  echo "# Container start-up: aurora-runc, runc, crun"
  echo
  echo "Generated by \`bash bench/oci_startup.sh\` on $(date -u +%Y-%m-%dT%H:%MZ), $(uname -sr), $(nproc) cores;"
  echo "$("$runc" --version | head -1), $("$crun" --version | head -1), $("$ours" --version | head -1), podman $(podman --version | awk '{print $3}')."
  echo "All in one private mount namespace with the cgroup2 mount hidden (crun refuses this host's hybrid"
  echo "layout otherwise); crun runs with --cgroup-manager=disabled (no cgroup work), runc and aurora-runc"
  echo "place each container below this process's own cgroup. Ratios are within this run; absolute times"
  echo "drift from run to run on this machine."
  echo
  report
} > "$tmp/report.md"
if [ "$out" = - ]; then cat "$tmp/report.md"; else cp "$tmp/report.md" "$out"; echo "bench/oci_startup.sh: wrote $out"; cat "$out"; fi
