#!/bin/bash
# ctest oci.containerd: containerd 1.6's runc shim (io.containerd.runc.v2) runs a container
# through aurora-runc: `ctr run --runc-binary AURORA_RUNC --rm`, its stdout and exit status,
# containerd's default seccomp profile (--seccomp), then `ctr task exec` into and
# `ctr task kill` of a running one, `ctr task pause` and `resume`, a kill while paused. A private containerd this script starts itself (its
# own root, state, sockets and config under a temporary directory) and stops, by its
# pid; the image is an OCI archive of a busybox root built here, loaded with
# `ctr image import`. usage: containerd.sh AURORA_RUNC
set -u
runtime=$1
. "$(dirname "$0")/common.sh"
command -v containerd >/dev/null || skip "containerd is not installed"
command -v ctr >/dev/null || skip "ctr is not installed"
command -v containerd-shim-runc-v2 >/dev/null || skip "containerd's runc shim is not installed"
[ "$(id -u)" = 0 ] || skip "a private containerd runs as root here"

tmp=$(mktemp -d /tmp/aj-containerd.XXXXXX)
failed=0
daemon=
cleanup() {
  if [ -n "$daemon" ]; then
    kill "$daemon" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$daemon" 2>/dev/null
    wait "$daemon" 2>/dev/null
  fi
  # The shims our containerd started (each names its socket), should a task be left.
  local shim
  for shim in $(pgrep -f -- "-address $tmp/containerd.sock"); do kill -9 "$shim" 2>/dev/null; done
  remove_tree_with_mounts "$tmp"
  for h in /sys/fs/cgroup/*/; do rmdir "$h$base/aj-ctr-$$" 2>/dev/null; done
  remove_cgroup_base
}
# The container's cgroups below this process's own (longest path of /proc/self/cgroup).
base=$(awk -F: '{ if (length($3) > length(b)) b = $3 } END { print (b == "/" ? "" : b) }' /proc/self/cgroup)
trap cleanup EXIT
make_cgroup_base "$base" || { echo "FAIL: making the cgroup parent $base in every hierarchy"; exit 1; }

cat > "$tmp/config.toml" <<TOML
version = 2
root = "$tmp/root"
state = "$tmp/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.internal.v1.opt", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$tmp/containerd.sock"
[ttrpc]
  address = "$tmp/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
TOML
containerd --config "$tmp/config.toml" > "$tmp/containerd.log" 2>&1 &
daemon=$!
C=(ctr --address "$tmp/containerd.sock" --namespace aj-test)
for _ in $(seq 100); do "${C[@]}" version >/dev/null 2>&1 && break; sleep 0.1; done
"${C[@]}" version >/dev/null 2>&1 || { echo "FAIL: containerd did not start: $(tail -5 "$tmp/containerd.log")"; exit 1; }

# An OCI image archive: one uncompressed layer (the busybox root), its config, manifest, index.
busybox_rootfs_tar "$tmp" "$tmp/layer.tar"
oci=$tmp/oci
mkdir -p "$oci/blobs/sha256"
blob() {  # FILE -> "DIGEST SIZE", the file stored as a blob
  local d s
  d=$(sha256sum "$1" | cut -d' ' -f1); s=$(stat -c %s "$1")
  cp "$1" "$oci/blobs/sha256/$d"
  echo "$d $s"
}
read -r layer layer_size < <(blob "$tmp/layer.tar")
printf '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin"],"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
  "$layer" > "$tmp/config.json"
read -r config config_size < <(blob "$tmp/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
  "$config" "$config_size" "$layer" "$layer_size" > "$tmp/manifest.json"
read -r manifest manifest_size < <(blob "$tmp/manifest.json")
image=docker.io/library/aj-busybox:latest
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"latest"},"platform":{"architecture":"amd64","os":"linux"}}]}' \
  "$manifest" "$manifest_size" "$image" > "$oci/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' > "$oci/oci-layout"
tar -C "$oci" -cf "$tmp/image.tar" .
"${C[@]}" image import --snapshotter native "$tmp/image.tar" >"$tmp/import.log" 2>&1 ||
  { echo "FAIL: ctr image import: $(cat "$tmp/import.log")"; exit 1; }

R=(--snapshotter native --runc-binary "$runtime" --runc-root "$tmp/runc")
out=$(timeout -s KILL 60 "${C[@]}" run --rm "${R[@]}" --cgroup "$base/aj-ctr-$$/one" "$image" aj-one \
  sh -c 'echo hello from $(hostname); exit 3' 2>"$tmp/err")
rc=$?
[ "$rc" = 3 ] || fail "ctr run --rm: exit status $rc, not 3: $(cat "$tmp/err")"
case "$out" in "hello from "?*) ;; *) fail "ctr run --rm: stdout \"$out\"" ;; esac

# --seccomp: containerd's default profile (the one its CRI gives pods) is loaded on top of
# the policy's filter: two filters (docs/oci.md, "Seccomp profiles").
out=$(timeout -s KILL 60 "${C[@]}" run --rm --seccomp "${R[@]}" --cgroup "$base/aj-ctr-$$/sc" "$image" aj-sc \
  grep Seccomp_filters /proc/self/status 2>"$tmp/err")
[ "$out" = "Seccomp_filters:	2" ] || fail "ctr run --seccomp: \"$out\": $(cat "$tmp/err")"

# ctr run -t: a terminal of the container's own devpts, its master through the shim's
# console socket (ctr wants a terminal on its own stdin: script gives it one).
run_t=$(printf '%q ' "${C[@]}" run --rm -t "${R[@]}" --cgroup "$base/aj-ctr-$$/tty" "$image" aj-tty sh -c 'tty; exit 4')
out=$(timeout -s KILL 60 script -qec "$run_t" /dev/null </dev/null 2>"$tmp/err")
rc=$?
[ "$rc" = 4 ] || fail "ctr run -t: exit status $rc, not 4: $(cat "$tmp/err") $out"
case "$out" in *"/dev/pts/0"*) ;; *) fail "ctr run -t: tty printed \"$out\", not /dev/pts/0" ;; esac

# A detached task, killed through the shim (aurora-runc kill), then deleted.
"${C[@]}" run -d "${R[@]}" --cgroup "$base/aj-ctr-$$/two" "$image" aj-two sleep 1000 >/dev/null 2>"$tmp/err" ||
  fail "ctr run -d: $(cat "$tmp/err")"
status=$("${C[@]}" task ls 2>&1 | awk '$1 == "aj-two" { print $3 }')
[ "$status" = RUNNING ] || fail "ctr task ls: aj-two is \"$status\", not RUNNING"
# exec through the shim (aurora-runc exec --process --detach --pid-file): output, status.
out=$(timeout -s KILL 30 "${C[@]}" task exec --exec-id e1 aj-two sh -c 'echo x from $(hostname); exit 4' 2>"$tmp/err")
rc=$?
[ "$rc" = 4 ] || fail "ctr task exec: exit status $rc, not 4: $(cat "$tmp/err")"
case "$out" in "x from "?*) ;; *) fail "ctr task exec: stdout \"$out\"" ;; esac
# exec -t (the shim: exec --detach --tty --console-socket): a terminal of the container's
# own devpts (the task has none of its own: /dev/pts/0).
exec_t=$(printf '%q ' "${C[@]}" task exec -t --exec-id e2 aj-two sh -c 'tty; exit 5')
out=$(timeout -s KILL 60 script -qec "$exec_t" /dev/null </dev/null 2>"$tmp/err")
rc=$?
[ "$rc" = 5 ] || fail "ctr task exec -t: exit status $rc, not 5: $(cat "$tmp/err") $out"
case "$out" in *"/dev/pts/0"*) ;; *) fail "ctr task exec -t: tty printed \"$out\", not /dev/pts/0" ;; esac
"${C[@]}" task kill -s SIGKILL aj-two 2>"$tmp/err" || fail "ctr task kill: $(cat "$tmp/err")"
for _ in $(seq 100); do
  status=$("${C[@]}" task ls 2>&1 | awk '$1 == "aj-two" { print $3 }')
  [ "$status" = STOPPED ] && break; sleep 0.1
done
[ "$status" = STOPPED ] || fail "ctr task kill: aj-two is \"$status\", not STOPPED"
"${C[@]}" task delete aj-two >/dev/null 2>"$tmp/err" || fail "ctr task delete: $(cat "$tmp/err")"
"${C[@]}" container delete aj-two >/dev/null 2>"$tmp/err" || fail "ctr container delete: $(cat "$tmp/err")"
for h in /sys/fs/cgroup/*/; do
  [ -e "$h$base/aj-ctr-$$/two" ] && fail "the container's cgroup $h$base/aj-ctr-$$/two was left"
done

# ctr task pause and resume (aurora-runc pause/resume: the container's cgroup freezer):
# the shim reads "paused" from state; a task killed while paused stops, and its cgroup goes.
task_status() { "${C[@]}" task ls 2>&1 | awk -v t="$1" '$1 == t { print $3 }'; }
wait_task_status() {  # TASK STATUS: polls for 10 s
  for _ in $(seq 100); do [ "$(task_status "$1")" = "$2" ] && return 0; sleep 0.1; done
  return 1
}
"${C[@]}" run -d "${R[@]}" --cgroup "$base/aj-ctr-$$/pz" "$image" aj-pz sleep 1000 >/dev/null 2>"$tmp/err" ||
  fail "ctr run -d (pause): $(cat "$tmp/err")"
"${C[@]}" task pause aj-pz 2>"$tmp/err" || fail "ctr task pause: $(cat "$tmp/err")"
wait_task_status aj-pz PAUSED || fail "ctr task pause: aj-pz is \"$(task_status aj-pz)\", not PAUSED"
"${C[@]}" task resume aj-pz 2>"$tmp/err" || fail "ctr task resume: $(cat "$tmp/err")"
wait_task_status aj-pz RUNNING || fail "ctr task resume: aj-pz is \"$(task_status aj-pz)\", not RUNNING"
"${C[@]}" task pause aj-pz 2>"$tmp/err" || fail "ctr task pause (again): $(cat "$tmp/err")"
"${C[@]}" task kill -s SIGKILL aj-pz 2>"$tmp/err" || fail "ctr task kill of a paused task: $(cat "$tmp/err")"
wait_task_status aj-pz STOPPED || fail "ctr task kill of a paused task: aj-pz is \"$(task_status aj-pz)\", not STOPPED"
"${C[@]}" task delete aj-pz >/dev/null 2>"$tmp/err" || fail "ctr task delete (paused, killed): $(cat "$tmp/err")"
"${C[@]}" container delete aj-pz >/dev/null 2>"$tmp/err" || fail "ctr container delete aj-pz: $(cat "$tmp/err")"
for h in /sys/fs/cgroup/*/; do
  [ -e "$h$base/aj-ctr-$$/pz" ] && fail "the paused container's cgroup $h$base/aj-ctr-$$/pz was left"
done

[ "$failed" = 0 ] && echo "PASS: ctr run --rm, run --seccomp, run -t, task exec, task exec -t, task kill, task pause and resume through containerd's runc shim and $runtime"
exit "$failed"
