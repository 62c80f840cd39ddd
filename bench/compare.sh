#!/bin/bash
# aurora-jail against bubblewrap, firejail and crun, side by side, in one run.
#
# Usage (as root, from a checkout):  bash bench/compare.sh [options]
#   -o FILE            write the Markdown results here (default bench/RESULTS.md; - = none)
#   --profile          also perf-profile 100 aurora-jail runs ("where the time goes");
#                      without it, that section is carried over from FILE's last profiled run
#   --runs N           startup runs per command and round (default 50, warmup 5): each pass
#                      runs every tool once (bench/interleave.py), so drift hits all alike
#   --rounds N         rounds of the startup measurement (default 3)
#   --calls N          system calls per measurement in the syscall benchmark (default 2000000)
#   --daemon-requests N  requests for bench/daemon.sh (default 300)
#   --daemon-baseline BINARY  an older aurora-jail whose daemon figures bench/daemon.sh
#                      prints beside the current one's, from the same run
#   --only LIST        comma list of sections: startup,syscall,daemon,memory (default all)
#   --aj BINARY        use this aurora-jail instead of building build-bench
#   --escapes          also run bench/escape_compare.sh (rewrites bench/ESCAPES.md; slow)
#
# What it measures (the exact command lines end up in the results):
#  1. startup of /bin/true, interleaved run by run: bare; aurora-jail (default policy, and a policy matching the
#     bwrap line: same mounts, no resource limits); bwrap (the common baseline line), bwrap + our
#     seccomp program; firejail (as a throwaway user: it refuses root); crun (OCI bundle,
#     cgroups disabled); `unshare` with the same namespaces as the floor. Medians.
#  2. per-syscall cost (bench/syscall_cost.c) bare, under aurora-jail's default filter and
#     its smallest filter, under bwrap without and with that filter; and how many BPF
#     instructions each call walks (bench/bpf_walk.py).
#  3. the host daemon (bench/daemon.sh), its summary folded in.
#  4. peak memory: max RSS (GNU time) and every process's VmHWM (bench/peak_rss.py).
# Peers that cannot run here print "skipped: REASON", never a number.
# Everything it creates (temp dir, throwaway user, perf data) is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

out=bench/RESULTS.md
profile=0
runs=50
rounds=3
calls=2000000
daemon_requests=300
daemon_baseline=
only=startup,syscall,daemon,memory
aj_given=
escapes=0
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out=$2; shift 2 ;;
    --profile) profile=1; shift ;;
    --runs) runs=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --calls) calls=$2; shift 2 ;;
    --daemon-requests) daemon_requests=$2; shift 2 ;;
    --daemon-baseline) daemon_baseline=$(realpath "$2"); shift 2 ;;
    --only) only=$2; shift 2 ;;
    --aj) aj_given=$2; shift 2 ;;
    --escapes) escapes=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for v in runs rounds calls daemon_requests; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: --${v//_/-} needs a positive integer" >&2; exit 2; }
done
want() { [[ ,$only, == *,$1,* ]]; }
say() { printf '\n== %s\n' "$*" >&2; }
is_root=0
[ "$(id -u)" = 0 ] && is_root=1

# ---- peers and the build ----------------------------------------------------------------
if ! scripts/deps.sh --bench; then
  [ "$is_root" = 1 ] && { echo "compare.sh: installing the peers failed" >&2; exit 1; }
  echo "compare.sh: not root: going on with the tools already installed" >&2
fi
command -v hyperfine >/dev/null || { echo "compare.sh: hyperfine is needed (scripts/deps.sh --bench)" >&2; exit 1; }

if [ -n "$aj_given" ]; then
  aj=$(realpath "$aj_given")
else
  build="build-bench"
  say "building aurora-jail (RelWithDebInfo) in $build"
  build_log=$(mktemp)
  if ! { cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
         cmake --build "$build" --target aurora-jail -j 2; } >"$build_log" 2>&1; then
    tail -n 30 "$build_log" >&2
    rm -f "$build_log"
    echo "compare.sh: build failed" >&2
    exit 1
  fi
  rm -f "$build_log"
  aj=$(realpath "$build/runner/aurora-jail")
fi
[ -x "$aj" ] || { echo "compare.sh: no aurora-jail binary at $aj" >&2; exit 1; }
aj_built=$aj

# ---- scratch space and cleanup ------------------------------------------------------------
# Outside /tmp (the sandboxes get their own /tmp) and world-readable: aurora-jail maps a
# root caller to uid 65534, and firejail runs as the throwaway user.
work=$(mktemp -d /var/tmp/aj-compare.XXXXXX)
chmod 755 "$work"
fj_user="aj-bench-fj"
fj_home=/home/$fj_user
fj_made=0
cleanup() {
  if [ "$fj_made" = 1 ]; then
    userdel "$fj_user" 2>/dev/null || true
    rm -rf "$fj_home"
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
res=$work/results
mkdir -m 755 "$res" "$work/bin"
# The peers run as dpkg installed them; aurora-jail runs from a copy written the same way
# (whole, in order, as install(1) and dpkg write files). The linker's own output starts
# measurably slower until the page cache forgets it: it writes the file piecemeal, so its
# cached pages stay small, and an exec then takes more page faults (measured here: ~0.3 ms
# a start, ~5% of the bwrap-equivalent run).
install -m 755 "$aj_built" "$work/bin/aurora-jail"
aj=$work/bin/aurora-jail
: >"$res/skipped.tsv"
: >"$res/commands.tsv"
skip() { printf '%s\t%s\n' "$1" "$2" >>"$res/skipped.tsv"; echo "   $1: skipped: $2" >&2; }
record_cmd() { printf '%s\t%s\n' "$1" "$2" >>"$res/commands.tsv"; }
# ok NAME CMD...: does CMD run (exit 0) here? Otherwise record why not.
ok() {
  local name=$1; shift
  local err rc=0
  err=$("$@" 2>&1 >/dev/null) || rc=$?
  [ "$rc" = 0 ] && return 0
  skip "$name" "exit status $rc: $(printf '%s' "$err" | tr '\n' ' ' | cut -c1-160)"
  return 1
}

# ---- the command lines ----------------------------------------------------------------------
# bwrap: the common baseline line (all namespaces, ro /usr and /etc, fresh /proc /dev /tmp). The merged-/usr links are recreated as on the host.
bw=(bwrap --unshare-all --unshare-user --die-with-parent --new-session
    --ro-bind /usr /usr --ro-bind /etc /etc)
bw_paths=('"/usr"' '"/etc"')
for l in lib lib64 bin sbin; do
  if [ -L "/$l" ]; then
    bw+=(--symlink "$(readlink "/$l")" "/$l")
    bw_paths+=("\"/$l\"")
  fi
done
bw+=(--proc /proc --dev /dev --tmpfs /tmp)
bw_s="${bw[*]}"

# The same mounts for aurora-jail (a top-level symlink in allowed_paths is recreated as a
# link), and no resource limits (bwrap has none): namespaces, seccomp default deny, caps,
# no_new_privs, rlimits it cannot skip (open files, file size) remain. The default CPU
# bandwidth cap (max_cpus 1) is lifted too: it would need a cgroup, which bwrap has none of.
pol_bweq=$work/policy-bwrap-equivalent.json
joined=$(printf '%s, ' "${bw_paths[@]}")
printf '{"allowed_paths": [%s], "max_memory_mb": null, "max_cpu_sec": null, "max_pids": null, "max_cpus": null}\n' \
  "${joined%, }" >"$pol_bweq"
# The fewest filter rules the schema allows: no default deny set, no rules of our own;
# what remains is the architecture check (other ABIs are killed whatever the policy says).
pol_min=$work/policy-min-filter.json
echo '{"default_deny": false}' >"$pol_min"
chmod 644 "$pol_bweq" "$pol_min"
record_cmd "\$W/policy-bwrap-equivalent.json" "$(cat "$pol_bweq")"
record_cmd "\$W/policy-min-filter.json" "$(cat "$pol_min")"
"$aj" policy validate "$pol_bweq" "$pol_min" >/dev/null
bpf=$work/default.bpf
bpf_min=$work/min-filter.bpf
"$aj" policy compile --bpf "$bpf" >/dev/null
"$aj" policy compile --bpf "$bpf_min" "$pol_min" >/dev/null
chmod 644 "$bpf" "$bpf_min"

# The startup command lines, by name.
declare -A cmds

# ---- 1. startup ------------------------------------------------------------------------------
if want startup; then
  say "startup of /bin/true ($runs interleaved passes x $rounds rounds, warmup 5)"
  cmds[bare]="/bin/true"
  cmds[unshare]="unshare -U -r -m -p -f -n -i -u /bin/true"
  cmds[aurora-jail default]="$aj run -- /bin/true"
  cmds[aurora-jail bwrap-equivalent]="$aj run --policy $pol_bweq -- /bin/true"
  cmds[bwrap]="$bw_s /bin/true"
  # bwrap only loads a compiled BPF program, from an fd: the fd needs a shell, whose exec
  # costs are measured alone (bwrap via sh) so they can be taken out of the comparison.
  cmds[bwrap via sh]="sh -c 'exec $bw_s /bin/true'"
  cmds[bwrap+seccomp via sh]="sh -c 'exec $bw_s --seccomp 9 /bin/true 9<$bpf'"
  main_names=()
  crun_ok=0
  fj_ok=0
  for n in bare unshare "aurora-jail default" "aurora-jail bwrap-equivalent" bwrap "bwrap via sh" "bwrap+seccomp via sh"; do
    record_cmd "$n" "${cmds[$n]}"
    # bash splits the line as hyperfine -N does (shell words, quotes honoured).
    ok "$n" bash -c "exec ${cmds[$n]}" && main_names+=("$n")
  done

  # crun: an OCI bundle with the same view (empty read-only root, /usr and /etc read-only,
  # proc, tmpfs /dev and /tmp, the merged-/usr links) and namespaces (user: root -> 65534,
  # as aurora-jail maps a root caller). No seccomp, no cgroup (--cgroup-manager=disabled).
  if ! command -v crun >/dev/null; then
    skip crun "crun is not installed"
  elif [ "$is_root" != 1 ]; then
    skip crun "needs root here (a private mount namespace hides the hybrid cgroup2 mount)"
  else
    bundle=$work/crun-bundle
    python3 - "$bundle" <<'EOF'
import json, os, sys
b = sys.argv[1]
for d in ["usr", "etc", "proc", "dev", "tmp"]:
    os.makedirs(f"{b}/rootfs/{d}")
for l in ["bin", "sbin", "lib", "lib64"]:
    if os.path.islink(f"/{l}"):
        os.symlink(os.readlink(f"/{l}"), f"{b}/rootfs/{l}")
caps = {k: [] for k in ["bounding", "effective", "permitted", "inheritable", "ambient"]}
bind = lambda p: {"destination": p, "type": "bind", "source": p, "options": ["rbind", "ro", "nosuid", "nodev"]}
cfg = {
    "ociVersion": "1.0.2",
    "process": {"terminal": False, "user": {"uid": 0, "gid": 0}, "args": ["/bin/true"],
                "env": ["PATH=/usr/bin:/bin"], "cwd": "/", "noNewPrivileges": True,
                "capabilities": caps},
    "root": {"path": "rootfs", "readonly": True},
    "hostname": "sandbox",
    "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
               {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755", "size=64k"]},
               {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777"]},
               bind("/usr"), bind("/etc")],
    "linux": {"namespaces": [{"type": t} for t in ["pid", "network", "ipc", "uts", "mount", "user"]],
              "uidMappings": [{"containerID": 0, "hostID": 65534, "size": 1}],
              "gidMappings": [{"containerID": 0, "hostID": 65534, "size": 1}]},
}
json.dump(cfg, open(f"{b}/config.json", "w"), indent=1)
EOF
    chmod -R a+rX "$bundle"
    mkdir -m 700 "$work/crun-state"
    cmds[crun]="crun --cgroup-manager=disabled --root $work/crun-state run -b $bundle aj-bench"
    record_cmd crun "${cmds[crun]}"
    # On a hybrid cgroup host crun refuses to run with cgroup v2 mounted next to v1 even
    # with cgroups disabled: hide it under a read-only tmpfs, in a private mount namespace.
    crun_pre=":"
    if mountpoint -q /sys/fs/cgroup/unified 2>/dev/null; then
      crun_pre="mount -t tmpfs -o ro,size=4k none /sys/fs/cgroup/unified"
      record_cmd "crun (setup)" "unshare -m, then: $crun_pre"
    fi
    ok crun unshare -m sh -c "$crun_pre && exec ${cmds[crun]}" && crun_ok=1
  fi

  # firejail refuses root and uids below 1000: a throwaway user (as escape_compare.sh does),
  # deleted on exit. hyperfine itself runs as that user so no setpriv is timed.
  cmds[firejail]="firejail --noprofile --quiet --net=none --private --private-tmp --private-dev --seccomp --noroot --caps.drop=all --nonewprivs --ipc-namespace --hostname=sandbox --read-only=/usr --read-only=/etc /bin/true"
  record_cmd firejail "${cmds[firejail]}"
  if ! command -v firejail >/dev/null; then
    skip firejail "firejail is not installed"
  elif [ "$is_root" != 1 ]; then
    skip firejail "needs root to create the throwaway user it runs as"
  elif getent passwd "$fj_user" >/dev/null || [ -e "$fj_home" ]; then
    skip firejail "$fj_user or $fj_home already exists (remove it first)"
  else
    fj_uid=59998
    while getent passwd "$fj_uid" >/dev/null || getent group "$fj_uid" >/dev/null; do fj_uid=$((fj_uid - 1)); done
    fj_made=1
    useradd -M -U -u "$fj_uid" -d "$fj_home" -s /bin/sh "$fj_user"
    install -d -m 755 -o "$fj_uid" -g "$fj_uid" "$fj_home" "$work/fj"
    as_fj=(setpriv --reuid "$fj_uid" --regid "$fj_uid" --clear-groups env HOME="$fj_home")
    record_cmd "firejail (as)" "${as_fj[*]} (uid $fj_uid, a throwaway user)"
    # shellcheck disable=SC2086
    (cd "$fj_home" && ok firejail "${as_fj[@]}" ${cmds[firejail]}) && fj_ok=1
  fi

  for round in $(seq "$rounds"); do
    echo "   round $round of $rounds" >&2
    # Interleaved run by run (bench/interleave.py says why), not hyperfine's blocks.
    inter=()
    for n in "${main_names[@]}"; do inter+=(-n "$n" "${cmds[$n]}"); done
    python3 bench/interleave.py --runs "$runs" --warmup 5 --export-json "$res/startup-main.$round.json" "${inter[@]}"
    if [ "$crun_ok" = 1 ]; then
      # The same hyperfine call, inside the private mount namespace.
      unshare -m sh -c "$crun_pre && exec hyperfine -N --warmup 5 -r $runs --style none --export-json $res/startup-crun.$round.json -n crun '${cmds[crun]}'" >/dev/null
    fi
    if [ "$fj_ok" = 1 ]; then
      (cd "$fj_home" && "${as_fj[@]}" hyperfine -N --warmup 5 -r "$runs" --style none \
        --export-json "$work/fj/startup-firejail.json" -n firejail "${cmds[firejail]}" >/dev/null)
      cp "$work/fj/startup-firejail.json" "$res/startup-firejail.$round.json"
    fi
  done
fi

# ---- 2. per-syscall cost -------------------------------------------------------------------
if want syscall; then
  # Load from the other users of the machine only ever adds time: the best of the
  # program's 200 short rounds, in each of 3 passes over all environments (interleaved).
  say "per-syscall cost ($calls calls each, best of 200 rounds, 3 interleaved passes)"
  sc=$work/bin/syscall_cost
  if cc -static -O2 -std=gnu11 -Wall -Wextra -o "$sc" bench/syscall_cost.c 2>"$work/cc.log"; then
    echo "static" >"$res/syscall-build"
  else
    # No static libc: a dynamic binary still runs where /usr is visible (every sandbox here).
    cc -O2 -std=gnu11 -Wall -Wextra -o "$sc" bench/syscall_cost.c
    echo "dynamic (static link failed: $(head -n1 "$work/cc.log"))" >"$res/syscall-build"
  fi
  chmod 755 "$sc"
  bwb=(--ro-bind "$work/bin" "$work/bin")
  declare -A sys
  sys[bare]="$sc $calls"
  sys[aurora-jail default]="$aj run --workdir $work/bin -- $sc $calls"
  sys[aurora-jail min-filter]="$aj run --policy $pol_min --workdir $work/bin -- $sc $calls"
  sys[bwrap]="$bw_s ${bwb[*]} $sc $calls"
  sys[bwrap+seccomp]="sh -c 'exec $bw_s ${bwb[*]} --seccomp 9 $sc $calls 9<$bpf'"
  sys_names=()
  for n in bare "aurora-jail default" "aurora-jail min-filter" bwrap bwrap+seccomp; do
    record_cmd "syscall: $n" "${sys[$n]}"
    sys_names+=("$n")
  done
  mkdir "$res/syscall"
  for pass in 1 2 3; do
    i=0
    for n in "${sys_names[@]}"; do
      i=$((i + 1))
      [ -e "$res/syscall/$i.skipped" ] && continue
      rc=0
      bash -c "exec ${sys[$n]}" >"$res/syscall/$i.$pass" 2>"$work/sys.err" || rc=$?
      if [ "$rc" != 0 ]; then
        skip "syscall: $n" "exit status $rc: $(head -c 160 "$work/sys.err" | tr '\n' ' ')"
        touch "$res/syscall/$i.skipped"
        continue
      fi
      printf '%s\n' "$n" >"$res/syscall/$i.name"
    done
  done
  python3 bench/bpf_walk.py "$bpf" getppid=110 read0=0 ioctl=16:0xffffffff,0x541B denied=212 >"$res/bpf-default.txt"
  python3 bench/bpf_walk.py "$bpf_min" getppid=110 read0=0 ioctl=16:0xffffffff,0x541B >"$res/bpf-min.txt"
  mapfile -t all_nrs < <(seq 0 460 | sed 's/.*/nr&=&/')
  python3 bench/bpf_walk.py "$bpf" "${all_nrs[@]}" >"$res/bpf-all.txt"
fi

# ---- 3. host daemon --------------------------------------------------------------------------
if want daemon; then
  say "host daemon (bench/daemon.sh, $daemon_requests requests)"
  record_cmd daemon "bench/daemon.sh $aj $daemon_requests 2 $daemon_baseline"
  if ! bench/daemon.sh "$aj" "$daemon_requests" 2 ${daemon_baseline:+"$daemon_baseline"} >"$res/daemon.txt" 2>"$work/daemon.err"; then
    skip daemon "bench/daemon.sh failed: $(tail -n 3 "$work/daemon.err" | tr '\n' ' ')"
    rm -f "$res/daemon.txt"
  fi
fi

# ---- 4. peak memory --------------------------------------------------------------------------
if want memory; then
  say "peak memory"
  declare -A mem
  mem[aurora-jail default]="$aj run --"
  mem[aurora-jail bwrap-equivalent]="$aj run --policy $pol_bweq --"
  mem[bwrap]="$bw_s"
  : >"$res/maxrss.tsv"
  : >"$res/hwm.tsv"
  for n in "aurora-jail default" "aurora-jail bwrap-equivalent" bwrap; do
    record_cmd "memory: $n" "/usr/bin/time -f %M ${mem[$n]} /bin/true; bench/peak_rss.py ${mem[$n]} sleep 1"
    # shellcheck disable=SC2086
    for _ in 1 2 3 4 5; do
      /usr/bin/time -o "$work/time.out" -f %M ${mem[$n]} /bin/true
      printf '%s\t%s\n' "$n" "$(cat "$work/time.out")" >>"$res/maxrss.tsv"
    done
    # shellcheck disable=SC2086
    printf '%s\t%s\n' "$n" "$(python3 bench/peak_rss.py ${mem[$n]} sleep 1)" >>"$res/hwm.tsv"
  done
fi

# ---- profile ---------------------------------------------------------------------------------
if [ "$profile" = 1 ]; then
  say "perf profile of 100 aurora-jail runs (default policy)"
  if ! command -v perf >/dev/null; then
    skip profile "perf is not installed"
  else
    loop="for i in \$(seq 100); do $aj run -- /bin/true || exit 1; done"
    record_cmd profile "perf record -g -- sh -c '$loop'"
    t0=$(date +%s.%N)
    if perf stat -x, -e task-clock,context-switches,cpu-migrations,page-faults -o "$res/perf-stat.csv" -- sh -c "$loop" 2>"$work/perf.err"; then
      t1=$(date +%s.%N)
      echo "$t0 $t1" >"$res/perf-stat.wall"
    else
      skip "profile (perf stat)" "$(head -c 200 "$work/perf.err" | tr '\n' ' ')"
    fi
    if perf record -q -g -o "$work/perf.data" -- sh -c "$loop" 2>"$work/perf.err"; then
      # (perf 6.1's --comms filter drops samples when sorting by dso: sort by comm instead;
      # the loop's own sh and seq are a percent or two.)
      rep=(perf report -i "$work/perf.data" --stdio -g none)
      strip() { grep -v '^#' | sed '/^$/d'; }
      "${rep[@]}" --no-children --sort comm,dso --percent-limit 0.5 2>/dev/null | strip >"$res/perf-dso.txt"
      "${rep[@]}" --no-children --sort sym --dsos '[kernel.kallsyms]' --percent-limit 0.7 2>/dev/null | strip | head -n 20 >"$res/perf-kernel.txt"
      "${rep[@]}" --no-children --sort dso,sym --percent-limit 0.2 2>/dev/null | strip | grep -v 'kernel.kallsyms' | head -n 15 >"$res/perf-user.txt"
      # Inclusive time (a function and all it calls), from the call graphs: which system
      # calls, page faults and which of our functions the CPU time is spent under.
      "${rep[@]}" --children --sort sym --percent-limit 1.5 2>/dev/null | strip | head -n 45 >"$res/perf-inclusive.txt"
      perf evlist -i "$work/perf.data" 2>/dev/null | head -n 1 >"$res/perf-event.txt"
    else
      skip profile "perf record failed: $(head -c 200 "$work/perf.err" | tr '\n' ' ')"
    fi
    # The wall time phase by phase, aurora-jail (bwrap-equivalent policy) against bwrap,
    # from syscall tracepoints recorded system-wide (bench/phases.py says why not per task).
    if command -v bwrap >/dev/null; then
      phase_loop="for i in \$(seq 100); do $aj run --policy $pol_bweq -- /bin/true; $bw_s /bin/true; done"
      record_cmd "profile (phases)" "perf record -a -e syscalls:sys_enter_execve,sys_enter_clone,sys_exit_clone,sys_enter_exit_group -- sh -c '$phase_loop'"
      if perf record -a -q -o "$work/phases.data" -e syscalls:sys_enter_execve -e syscalls:sys_enter_clone \
           -e syscalls:sys_exit_clone -e syscalls:sys_enter_exit_group -- sh -c "$phase_loop" >/dev/null 2>"$work/perf.err"; then
        perf script -i "$work/phases.data" -F comm,pid,tid,cpu,time,event >"$work/phases.txt" 2>/dev/null
        python3 bench/phases.py "$work/phases.txt" >"$res/phases.md"
      else
        skip "profile (phases)" "perf record -a failed: $(head -c 200 "$work/perf.err" | tr '\n' ' ')"
      fi
    fi
  fi
fi

# ---- the escape probe, side by side (its own script and table) ---------------------------------
if [ "$escapes" = 1 ]; then
  say "escape probe (bench/escape_compare.sh)"
  if [ -n "$aj_given" ]; then
    skip escapes "escape_compare.sh builds its own tree: not with --aj"
  elif ! bench/escape_compare.sh "$build" >"$work/escapes.out" 2>"$work/escapes.err"; then
    skip escapes "bench/escape_compare.sh failed: $(tail -n 3 "$work/escapes.err" | tr '\n' ' ')"
  fi
fi

# ---- the machine, and the report ---------------------------------------------------------------
{
  echo "date	$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "kernel	$(uname -r)"
  echo "cores	$(nproc)"
  echo "cpu	$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
  echo "memory	$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
  echo "debian	$(cat /etc/debian_version 2>/dev/null || echo unknown)"
  echo "cgroups	$(if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then echo v2; elif mountpoint -q /sys/fs/cgroup/unified; then echo 'hybrid (v1 controllers + v2 at /sys/fs/cgroup/unified)'; else echo v1; fi)"
  commit=$(git -C "$repo" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
  git -C "$repo" diff --quiet HEAD -- policy helper runner 2>/dev/null || commit+=" (with uncommitted changes in policy/ helper/ runner/)"
  echo "aurora-jail	$("$aj" --version 2>/dev/null | awk '{print $NF}'), git $commit, RelWithDebInfo"
  for t in bwrap firejail crun hyperfine perf; do
    if command -v $t >/dev/null; then
      echo "$t	$($t --version 2>/dev/null | head -n 1 | awk '{print $NF}')"
    fi
  done
  echo "cc	$(cc --version | head -n 1)"
} >"$res/machine.tsv"

python3 bench/compare_report.py "$res" "$out" "$work" "$runs" "$rounds" "$calls" "$profile"
