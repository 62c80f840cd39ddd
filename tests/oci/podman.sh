#!/bin/bash
# ctest oci.podman: podman 4.3 runs containers through aurora-runc (--runtime): run --rm
# (stdout and the exit status), seccomp profiles (podman's default, unconfined, one of
# our own), --device, --ipc host, run -t and -it (the container's
# terminal), logs, stop, exec, exec -it, update --memory, kill, pause and unpause, rm -f.
# A private store (--root,
# --runroot under a temporary directory, vfs), the image imported from a busybox tarball.
# usage: podman.sh AURORA_RUNC
set -u
runtime=$1
. "$(dirname "$0")/common.sh"
command -v podman >/dev/null || skip "podman is not installed"
command -v conmon >/dev/null || skip "conmon is not installed"
[ "$(id -u)" = 0 ] || skip "podman with a private store runs as root here"

tmp=$(mktemp -d /tmp/aj-podman.XXXXXX)
failed=0
P=(podman --root "$tmp/root" --runroot "$tmp/run" --storage-driver vfs --cgroup-manager cgroupfs
   --events-backend file --tmpdir "$tmp/tmpdir" --runtime "$runtime")
# Root lacks CAP_SYS_RESOURCE on this kind of host: podman's default ulimits cannot be set.
# The containers' cgroups below this process's own (the longest path of /proc/self/cgroup).
base=$(awk -F: '{ if (length($3) > length(b)) b = $3 } END { print (b == "/" ? "" : b) }' /proc/self/cgroup)
R=(--ulimit nofile=20000:20000 --ulimit nproc=4096:4096 --network none --cgroup-parent "$base/aj-podman-$$")
cleanup() {
  "${P[@]}" rm -af -t 0 >/dev/null 2>&1
  "${P[@]}" rmi -af >/dev/null 2>&1
  remove_tree_with_mounts "$tmp"
  for h in /sys/fs/cgroup/*/; do rmdir "$h$base/aj-podman-$$/conmon" "$h$base/aj-podman-$$" 2>/dev/null; done
  remove_cgroup_base
}
trap cleanup EXIT
make_cgroup_base "$base" || { echo "FAIL: making the cgroup parent $base in every hierarchy"; exit 1; }

busybox_rootfs_tar "$tmp" "$tmp/busybox.tar"
"${P[@]}" import -q "$tmp/busybox.tar" aj-busybox >/dev/null || { echo "FAIL: podman import"; exit 1; }

out=$(timeout -s KILL 60 "${P[@]}" run --rm "${R[@]}" aj-busybox sh -c 'echo hello from $(hostname); exit 3' 2>"$tmp/err")
rc=$?
[ "$rc" = 3 ] || fail "run --rm: exit status $rc, not 3: $(cat "$tmp/err")"
case "$out" in "hello from "?*) ;; *) fail "run --rm: stdout \"$out\"" ;; esac

# linux.seccomp: podman's default profile (an allow-list) is passed with every container
# and loaded on top of the policy's filter (two filters; one with seccomp=unconfined),
# and a profile of our own refusing mkdir is enforced (docs/oci.md, "Seccomp profiles").
out=$(timeout -s KILL 60 "${P[@]}" run --rm "${R[@]}" aj-busybox grep Seccomp_filters /proc/self/status 2>"$tmp/err")
[ "$out" = "Seccomp_filters:	2" ] || fail "run with podman's default profile: \"$out\": $(cat "$tmp/err")"
out=$(timeout -s KILL 60 "${P[@]}" run --rm "${R[@]}" --security-opt seccomp=unconfined aj-busybox \
      grep Seccomp_filters /proc/self/status 2>"$tmp/err")
[ "$out" = "Seccomp_filters:	1" ] || fail "run with seccomp=unconfined: \"$out\": $(cat "$tmp/err")"
printf '%s' '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":18}]}' \
  >"$tmp/no-mkdir.json"
out=$(timeout -s KILL 60 "${P[@]}" run --rm "${R[@]}" --security-opt seccomp="$tmp/no-mkdir.json" aj-busybox \
      sh -c 'mkdir /tmp/d 2>&1; echo $?' 2>"$tmp/err")
case "$out" in *"cross-device link"*1) ;; *) fail "run with a profile refusing mkdir (EXDEV): \"$out\": $(cat "$tmp/err")" ;; esac

# --device: podman lists the host node's numbers, mode and owner, and aurora-runc (as
# root) makes that node in the container's /dev. --ipc host: no ipc namespace listed, so
# the container shares the runtime's (docs/oci.md, "Namespaces the config leaves out").
if [ -c /dev/fuse ]; then
  out=$(timeout -s KILL 60 "${P[@]}" run --rm "${R[@]}" --device /dev/fuse --ipc host aj-busybox \
        sh -c 'stat -c "%F %t:%T %a" /dev/fuse; readlink /proc/self/ns/ipc' 2>"$tmp/err")
  want="$(stat -c '%F %t:%T %a' /dev/fuse)
$(readlink /proc/self/ns/ipc)"
  [ "$out" = "$want" ] || fail "run --device /dev/fuse --ipc host: \"$out\", not \"$want\": $(cat "$tmp/err")"
fi
# run -t: a terminal of the container's own devpts (process.terminal, --console-socket):
# tty names its first terminal, stty the size podman set; the status comes through.
out=$(timeout -s KILL 60 "${P[@]}" run --rm -t "${R[@]}" aj-busybox sh -c 'tty; stty size; exit 4' </dev/null 2>"$tmp/err")
rc=$?
[ "$rc" = 4 ] || fail "run -t: exit status $rc, not 4: $(cat "$tmp/err")"
case "$out" in *"/dev/pts/0"*) ;; *) fail "run -t: tty printed \"$out\", not /dev/pts/0" ;; esac
# run -it: what is typed on podman's own terminal (script gives it one) reaches the shell.
run_it=$(printf '%q ' "${P[@]}" run --rm -it "${R[@]}" aj-busybox sh)
out=$(printf 'echo typed-$((6*7)); exit 6\n' | timeout -s KILL 60 script -qec "$run_it" /dev/null 2>"$tmp/err")
rc=$?
[ "$rc" = 6 ] || fail "run -it: exit status $rc, not 6: $(cat "$tmp/err") $out"
case "$out" in *typed-42*) ;; *) fail "run -it: the shell's output \"$out\" lacks typed-42" ;; esac

# logs, then stop: its SIGTERM (aurora-runc kill) reaches the shell, whose trap exits 0.
"${P[@]}" run -d --name aj-logs "${R[@]}" aj-busybox sh -c 'trap "exit 0" TERM; echo logged; while :; do sleep 0.1; done' >/dev/null 2>"$tmp/err" ||
  fail "run -d: $(cat "$tmp/err")"
for _ in $(seq 50); do "${P[@]}" logs aj-logs 2>/dev/null | grep -q logged && break; sleep 0.1; done
# The last line: podman passes create no --log, so aurora-runc's warnings go to create's
# stderr, which conmon has already made the container's (docs/oci.md, Known gaps).
[ "$("${P[@]}" logs aj-logs 2>&1 | tail -n 1)" = logged ] || fail "logs: $("${P[@]}" logs aj-logs 2>&1 | tail -n 3)"
timeout -s KILL 30 "${P[@]}" stop -t 5 aj-logs >/dev/null 2>"$tmp/err" || fail "stop: $(cat "$tmp/err")"
state=$("${P[@]}" inspect -f '{{.State.Status}} {{.State.ExitCode}}' aj-logs 2>&1)
[ "$state" = "exited 0" ] || fail "stop: the container is \"$state\", not \"exited 0\" (its TERM trap)"
"${P[@]}" rm aj-logs >/dev/null 2>&1 || fail "rm of a stopped container"

# exec (conmon runs aurora-runc exec --detach --pid-file and reaps the process): its
# output and status; then ps through the runtime's view of the same container.
"${P[@]}" run -d --name aj-exec "${R[@]}" aj-busybox sleep 1000 >/dev/null 2>"$tmp/err" || fail "run -d: $(cat "$tmp/err")"
out=$(timeout -s KILL 30 "${P[@]}" exec aj-exec sh -c 'echo x from $(hostname); exit 4' 2>"$tmp/err")
rc=$?
[ "$rc" = 4 ] || fail "exec: exit status $rc, not 4: $(cat "$tmp/err")"
case "$out" in "x from "?*) ;; *) fail "exec: stdout \"$out\"" ;; esac
# exec -it (conmon: exec --detach --tty --console-socket): a terminal of the container's
# own devpts (the container has none of its own: /dev/pts/0), typed into through script.
exec_it=$(printf '%q ' "${P[@]}" exec -it aj-exec sh)
out=$(printf 'tty; echo typed-$((6*7)); exit 7\n' | timeout -s KILL 60 script -qec "$exec_it" /dev/null 2>"$tmp/err")
rc=$?
[ "$rc" = 7 ] || fail "exec -it: exit status $rc, not 7: $(cat "$tmp/err") $out"
case "$out" in *typed-42*) ;; *) fail "exec -it: the shell's output \"$out\" lacks typed-42" ;; esac
case "$out" in *"/dev/pts/0"*) ;; *) fail "exec -it: tty printed \"$out\", not /dev/pts/0" ;; esac
# update (podman hands aurora-runc update the container's new LinuxResources): the memory
# limit reaches the container's cgroup, and the sandbox's own below it (docs/oci.md, "update").
timeout -s KILL 30 "${P[@]}" update --memory 64m aj-exec >/dev/null 2>"$tmp/err" || fail "update --memory: $(cat "$tmp/err")"
monitor=$("${P[@]}" inspect -f '{{.State.Pid}}' aj-exec)
cg=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3 }' "/proc/$monitor/cgroup")
for dir in "/sys/fs/cgroup/memory$cg" "/sys/fs/cgroup/memory$cg/aurora-jail-$monitor-"*; do
  limit=$(cat "$dir/memory.limit_in_bytes" 2>&1)
  [ "$limit" = 67108864 ] || fail "update --memory 64m: $dir/memory.limit_in_bytes is \"$limit\""
done
timeout -s KILL 30 "${P[@]}" rm -f -t 0 aj-exec >/dev/null 2>&1 || fail "rm -f of the exec container"

# kill (SIGKILL), wait's status.
"${P[@]}" run -d --name aj-kill "${R[@]}" aj-busybox sleep 1000 >/dev/null 2>"$tmp/err" || fail "run -d: $(cat "$tmp/err")"
"${P[@]}" kill aj-kill >/dev/null 2>"$tmp/err" || fail "kill: $(cat "$tmp/err")"
status=$(timeout -s KILL 30 "${P[@]}" wait aj-kill 2>&1)
[ "$status" = 137 ] || fail "kill: wait says \"$status\", not 137"

# pause and unpause (aurora-runc pause/resume: the container's cgroup freezer): paused,
# the container's counter stands still and podman reads the state "paused"; unpaused, it
# counts on; rm -f of a paused container ends it.
mkdir -p "$tmp/count" && chmod 777 "$tmp/count"
"${P[@]}" run -d --name aj-pause "${R[@]}" -v "$tmp/count:/out" aj-busybox \
  sh -c 'i=0; while :; do i=$((i+1)); echo $i > /out/n.new; mv /out/n.new /out/n; sleep 0.01; done' >/dev/null 2>"$tmp/err" ||
  fail "run -d (pause): $(cat "$tmp/err")"
for _ in $(seq 100); do [ -s "$tmp/count/n" ] && break; sleep 0.1; done
timeout -s KILL 30 "${P[@]}" pause aj-pause >/dev/null 2>"$tmp/err" || fail "pause: $(cat "$tmp/err")"
state=$("${P[@]}" inspect -f '{{.State.Status}}' aj-pause 2>&1)
[ "$state" = paused ] || fail "pause: the container is \"$state\", not paused"
a=$(cat "$tmp/count/n"); sleep 0.3; b=$(cat "$tmp/count/n")
[ -n "$a" ] && [ "$a" = "$b" ] || fail "pause: the counter moved from \"$a\" to \"$b\" while paused"
timeout -s KILL 30 "${P[@]}" unpause aj-pause >/dev/null 2>"$tmp/err" || fail "unpause: $(cat "$tmp/err")"
state=$("${P[@]}" inspect -f '{{.State.Status}}' aj-pause 2>&1)
[ "$state" = running ] || fail "unpause: the container is \"$state\", not running"
for _ in $(seq 100); do [ "$(cat "$tmp/count/n")" != "$b" ] && break; sleep 0.05; done
[ "$(cat "$tmp/count/n")" != "$b" ] || fail "unpause: the counter stands still at \"$b\""
timeout -s KILL 30 "${P[@]}" pause aj-pause >/dev/null 2>"$tmp/err" || fail "pause (again): $(cat "$tmp/err")"
timeout -s KILL 30 "${P[@]}" rm -f -t 0 aj-pause >/dev/null 2>"$tmp/err" || fail "rm -f of a paused container: $(cat "$tmp/err")"
"${P[@]}" container exists aj-pause && fail "rm -f left the paused container"

# rm -f of a running container.
"${P[@]}" run -d --name aj-rm "${R[@]}" aj-busybox sleep 1000 >/dev/null 2>"$tmp/err" || fail "run -d: $(cat "$tmp/err")"
timeout -s KILL 30 "${P[@]}" rm -f -t 2 aj-rm >/dev/null 2>"$tmp/err" || fail "rm -f: $(cat "$tmp/err")"
"${P[@]}" container exists aj-rm && fail "rm -f left the container"

[ "$failed" = 0 ] && echo "PASS: podman run --rm, seccomp profiles, --device, --ipc host, run -t, run -it, logs, stop, exec, exec -it, update, kill, pause, unpause, rm -f through $runtime"
exit "$failed"
