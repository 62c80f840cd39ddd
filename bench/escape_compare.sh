#!/bin/bash
# The escape probe (tests/escape/) under aurora-jail, bubblewrap and firejail, side by side.
#
# Usage (as root; it switches to the unprivileged uids itself):
#   bench/escape_compare.sh [BUILD_DIR]          default BUILD_DIR: build-bench
# Prints an attack x tool table (blocked / ESCAPED / skipped) and writes it, with the exact
# command lines and the details of every escape, to bench/ESCAPES.md.
#
# Each peer runs with the strongest settings it has that match aurora-jail's default policy
# (the same baseline command lines as bench/compare.sh uses for its peer rows):
#   bwrap:    all namespaces, --disable-userns, --cap-drop ALL, --new-session, --clearenv,
#             --die-with-parent, ro /usr and /etc, fresh /proc /dev /tmp. bwrap loads no
#             seccomp filter unless handed a compiled BPF program: none is given here (that
#             is its default), and it has no resource limits of its own.
#   firejail: the common baseline line plus --seccomp.block-secondary, --restrict-namespaces,
#             --nogroups and its --rlimit-* options set to the policy's limits, minus
#             --private (with it firejail 0.9.72 cannot exec a program outside the system
#             paths: "no suitable ... executable found"). It refuses root, uids below 1000
#             and nobody, and needs a passwd entry with a home under /home: the script
#             creates a throwaway user (aj-escape-fj, uid 1000..60000, its own copy of the
#             probe in its home) and deletes it on exit.
# Every tool gets the same probe arguments: a host process, a loopback listener and an
# abstract unix socket to reach, a host secret file, a secret environment variable, and
# the default policy's limits.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
if [ "$(id -u)" != 0 ]; then
  echo "escape_compare: run as root (it runs each tool as root and as uid 65534 itself)" >&2
  exit 1
fi
scripts/deps.sh --bench
build=${1:-build-bench}
build_log=$(mktemp)
if ! { cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
       cmake --build "$build" --target aurora-jail aj_escape_probe -j 2; } >"$build_log" 2>&1; then
  tail -n 30 "$build_log" >&2
  rm -f "$build_log"
  echo "escape_compare: build failed" >&2
  exit 1
fi
rm -f "$build_log"
aj_built=$(find "$build" -type f -name aurora-jail -perm -u+x | head -n1)
probe_built="$build/tests/escape/aj-escape-probe"
[ -x "$aj_built" ] && [ -x "$probe_built" ] || { echo "escape_compare: build failed" >&2; exit 1; }

# A world-readable scratch tree outside /tmp (firejail --private-tmp hides /tmp).
work=$(mktemp -d /var/tmp/aj-escape.XXXXXX)
pids=()
fj_user=aj-escape-fj
fj_home=/home/$fj_user
fj_made=0
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
  if [ "$fj_made" = 1 ]; then
    userdel "$fj_user" 2>/dev/null || true
    rm -rf "$fj_home"
  fi
}
trap cleanup EXIT
chmod 755 "$work"
mkdir -m 755 "$work/bin" "$work/probe" "$work/secret" "$work/out"
# aurora-jail's writable working directory (--workdir), as bwrap's is its /tmp: where
# setid_plant tries to leave a set-id file on the host.
mkdir -m 1777 "$work/wd"
install -m 755 "$aj_built" "$work/bin/aurora-jail"
install -m 755 "$probe_built" "$work/probe/aj-escape-probe"
install -m 4755 -o root -g root "$probe_built" "$work/probe/aj-escape-probe-suid"
install -m 755 "$(command -v sleep)" "$work/bin/aj-escape-tgt"
echo "host secret $RANDOM$RANDOM" >"$work/secret/secret.txt"
chmod 644 "$work/secret/secret.txt"
secret_env=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')

# The default policy plus the probe's directory, and its limits for the probe.
"$work/bin/aurora-jail" policy show >"$work/default-policy.json"
python3 - "$work" <<'EOF'
import json, sys
work = sys.argv[1]
p = json.load(open(f"{work}/default-policy.json"))
paths = p["allowed_paths"]
paths.append(f"{work}/probe" if paths and isinstance(paths[0], str) else {"path": f"{work}/probe", "mode": "ro"})
json.dump(p, open(f"{work}/policy.json", "w"), indent=2)
keys = {"mem_mb": "max_memory_mb", "tmp_mb": "max_tmpfs_mb", "open_files": "max_open_files",
        "pids": "max_pids", "cpu_sec": "max_cpu_sec"}
with open(f"{work}/limits", "w") as f:
    for k, v in keys.items():
        if isinstance(p.get(v), (int, float)) and p[v] > 0:
            f.write(f"{k}={int(p[v])}\n")
EOF
chmod 644 "$work/policy.json" "$work/limits"
limit() { sed -n "s/^$1=//p" "$work/limits"; }

# Host listeners the probe must not reach; they log every connection.
abstract="aj-escape-bench-$secret_env"
python3 - "$work/listener.port" "$work/listener.log" "$abstract" <<'EOF' &
import socket, sys, threading
port_file, log, name = sys.argv[1:4]
t = socket.socket(); t.bind(("127.0.0.1", 0)); t.listen(16)
u = socket.socket(socket.AF_UNIX); u.bind("\0" + name); u.listen(16)
def serve(s, what):
    while True:
        c, _ = s.accept()
        with open(log, "a") as f: f.write(what + " connection\n")
        c.close()
threading.Thread(target=serve, args=(u, "abstract"), daemon=True).start()
open(port_file + ".tmp", "w").write(str(t.getsockname()[1])); __import__("os").rename(port_file + ".tmp", port_file)
serve(t, "tcp")
EOF
pids+=($!)
for _ in $(seq 50); do [ -s "$work/listener.port" ] && break; sleep 0.1; done
port=$(cat "$work/listener.port")

q() { printf '%q ' "$@"; }

# run_tool NAME UID COMMAND...: runs COMMAND (ending in the probe path) as UID, on a fresh
# pty that is its controlling terminal, with the probe arguments appended.
run_tool() {
  local name=$1 uid=$2; shift 2
  setpriv --reuid "$uid" --regid "$uid" --clear-groups "$work/bin/aj-escape-tgt" 100000 &
  local target=$!
  pids+=("$target")
  local args=(host_pid="$target" host_comm=aj-escape-tgt secret="$work/secret/secret.txt"
              tcp_port="$port" unix_abstract="$abstract" env_name=AJ_ESCAPE_SECRET
              env_value="$secret_env" host_hostname="$(uname -n)"
              host_domainname="$(cat /proc/sys/kernel/domainname)")
  [ "$uid" = 0 ] && args+=(suid_copy="$work/probe/aj-escape-probe-suid")
  while read -r kv; do args+=("$kv"); done <"$work/limits"
  local cmd
  cmd="cd $(q "$work") && exec setpriv --reuid $uid --regid $uid --clear-groups env HOME=$(q "${HOME:-/}") AJ_ESCAPE_SECRET=$secret_env $(q "$@") $(q "${args[@]}")"
  echo "== $name (uid $uid)" >&2
  echo "$(q "$@")" >"$work/out/$name.cmd"
  local t0=$SECONDS
  script -qec "$cmd" /dev/null </dev/null >"$work/out/$name.raw" 2>&1 || true
  # The pty echoes what TIOCSTI injected (spaces) and firejail sets the terminal title:
  # strip both so every probe line starts with its keyword.
  # `script`, its stdin at EOF, passes that EOF on to the pty as a control character, which
  # the pty echoes as "^@" ahead of the first line when aurora-jail relays the terminal
  # (checked with /bin/echo: not the probe's doing): strip that too.
  tr -d '\r' <"$work/out/$name.raw" | sed 's/\x1b\][^\x07]*\x07//g; s/^[[:space:]]*//; s/^\(\^@\)*//' >"$work/out/$name"
  echo "   $(grep '^SUMMARY' "$work/out/$name" || echo 'no SUMMARY line'), $((SECONDS - t0)) s" >&2
  kill "$target" 2>/dev/null || true
}

probe="$work/probe/aj-escape-probe"
aj=("$work/bin/aurora-jail" run --policy "$work/policy.json" --workdir "$work/wd" --timeout 900 --)
bwrap_cmd=(bwrap --unshare-all --unshare-user --disable-userns --die-with-parent --new-session
           --cap-drop ALL --clearenv --ro-bind /usr /usr --ro-bind /etc /etc
           --symlink usr/lib /lib --symlink usr/lib64 /lib64 --symlink usr/bin /bin
           --symlink usr/sbin /sbin --proc /proc --dev /dev --tmpfs /tmp
           --ro-bind "$work/probe" "$work/probe" --chdir /tmp)
# The throwaway firejail user.
if getent passwd "$fj_user" >/dev/null || [ -e "$fj_home" ]; then
  echo "escape_compare: $fj_user or $fj_home already exists; remove it first" >&2
  exit 1
fi
fj_uid=59999
while getent passwd "$fj_uid" >/dev/null || getent group "$fj_uid" >/dev/null; do fj_uid=$((fj_uid - 1)); done
fj_made=1
useradd -M -U -u "$fj_uid" -d "$fj_home" -s /bin/sh "$fj_user"
install -d -m 755 -o "$fj_uid" -g "$fj_uid" "$fj_home"
install -m 755 "$probe_built" "$fj_home/aj-escape-probe"
fj_cmd=(firejail --noprofile --quiet --net=none --private-tmp --private-dev --seccomp
        --seccomp.block-secondary --restrict-namespaces --noroot --nogroups --caps.drop=all
        --nonewprivs --ipc-namespace --hostname=sandbox --read-only=/usr --read-only=/etc)
[ -n "$(limit mem_mb)" ] && fj_cmd+=(--rlimit-as=$(( $(limit mem_mb) * 1024 * 1024 )))
[ -n "$(limit pids)" ] && fj_cmd+=(--rlimit-nproc="$(limit pids)")
[ -n "$(limit open_files)" ] && fj_cmd+=(--rlimit-nofile="$(limit open_files)")
[ -n "$(limit cpu_sec)" ] && fj_cmd+=(--rlimit-cpu="$(limit cpu_sec)")

tools=("aurora-jail (root)" "aurora-jail (uid 65534)" "bwrap (root)" "bwrap (uid 65534)" "firejail (uid $fj_uid)")
files=(aj-root aj-nobody bwrap-root bwrap-nobody firejail-user)
run_tool aj-root 0 "${aj[@]}" "$probe"
run_tool aj-nobody 65534 "${aj[@]}" "$probe"
run_tool bwrap-root 0 "${bwrap_cmd[@]}" "$probe"
run_tool bwrap-nobody 65534 "${bwrap_cmd[@]}" "$probe"
HOME=$fj_home run_tool firejail-user "$fj_uid" "${fj_cmd[@]}" "$fj_home/aj-escape-probe"

# ---- the table ------------------------------------------------------------------------
out=bench/ESCAPES.md
{
  echo "# Escape probe: aurora-jail vs bubblewrap vs firejail"
  echo
  echo "Produced by \`bench/escape_compare.sh\` on $(date -u +%Y-%m-%d) ($(uname -sr), $(nproc) cores)."
  echo "aurora-jail $("$work/bin/aurora-jail" --version 2>/dev/null | awk '{print $NF}'),"
  echo "bwrap $(bwrap --version | awk '{print $NF}'), firejail $(firejail --version | awk 'NR==1{print $NF}')."
  echo "The probe is \`tests/escape/\` (one line per attack; BLOCKED only on the failure the attack"
  echo "expects). *blocked* = the attack failed as it should; **ESCAPED** = it got through (or"
  echo "showed a privilege it should not have); *skipped* = nothing to attack (e.g. no setuid copy"
  echo "for an unprivileged caller). Limits given to the probe are the default policy's:"
  echo "$(tr '\n' ' ' <"$work/limits")."
  echo
  printf '| attack |'; for t in "${tools[@]}"; do printf ' %s |' "$t"; done; echo
  printf '|---|'; for _ in "${tools[@]}"; do printf -- '---|'; done; echo
  for a in $("$probe" --list); do
    printf '| %s |' "$a"
    for f in "${files[@]}"; do
      s=$(awk -v a="$a" '$1=="ATTACK" && $2==a {print $3}' "$work/out/$f")
      case "$s" in
        BLOCKED) printf ' blocked |' ;;
        ESCAPED) printf ' **ESCAPED** |' ;;
        SKIPPED) printf ' skipped |' ;;
        *) printf ' (no line) |' ;;
      esac
    done
    echo
  done
  printf '| **escaped / blocked / skipped** |'
  for f in "${files[@]}"; do
    printf ' %s |' "$(sed -n 's/^SUMMARY escaped=\([0-9]*\) blocked=\([0-9]*\) skipped=\([0-9]*\)/\1 \/ \2 \/ \3/p' "$work/out/$f")"
  done
  echo
  echo
  if [ -s "$work/listener.log" ]; then
    echo "Host listeners (loopback TCP, abstract unix) saw: $(sort "$work/listener.log" | uniq -c | tr '\n' ';')"
  else
    echo "Host listeners (loopback TCP, abstract unix) saw no connection from any tool."
  fi
  echo
  echo "## Notes"
  echo
  echo "- bwrap loads no seccomp filter unless handed a compiled BPF program (none here: its"
  echo "  default), so the syscall-surface rows are the kernel's own answers; it has no resource"
  echo "  limits, hence the exhaustion rows. It passes the caller's open fds through"
  echo "  (inherited_fds lists what this shell had open)."
  echo "- bwrap run by root maps the sandbox's uid 0 to host root: /etc/shadow is readable and"
  echo "  /proc/1/exe (bwrap itself, on the host's writable /usr) is writable once it exits."
  echo "  aurora-jail gives a root caller's sandbox a host uid leased for that run alone"
  echo "  (SECURITY.md, \"Multi-tenant hosts\")."
  echo "- nobody_daemon_file, neighbour_sandbox_file, caller_tty_state, granted_procfs_submount"
  echo "  and caller_inotify_quota need a setup by the caller (a file of host uid 65534, a"
  echo "  neighbouring sandbox, the caller's terminal, a procfs below a granted path, a quota"
  echo "  directory): skipped here for every tool; tests/integration/escape_test.cpp provides"
  echo "  them and runs these classes against aurora-jail as root and as uid 65534."
  echo "- The i386_* rows are blocked for every tool on a kernel that refuses 32-bit system"
  echo "  calls (int 0x80) before any filter runs, as this one does."
  echo "- firejail runs without --private (with it, 0.9.72 cannot exec a program outside the"
  echo "  system paths), as a throwaway user; it does not start a new session (TIOCSTI) and"
  echo "  passes the environment through."
  echo "- Memory, pids and /tmp rows compare against the default policy's limits; a tool"
  echo "  without such a limit shows ESCAPED at limit + 64 MB / + 64 processes / + 16 MB."
  echo
  echo "## Command lines"
  echo
  for i in "${!files[@]}"; do
    echo "- ${tools[$i]}: \`$(sed "s|$work|\$W|g" "$work/out/${files[$i]}.cmd")\`"
  done
  echo
  echo "(\$W is the scratch directory; the probe's own arguments are omitted.)"
  echo
  echo "## What got through, per tool"
  for i in "${!files[@]}"; do
    echo
    echo "### ${tools[$i]}"
    echo
    grep '^ATTACK [^ ]* ESCAPED' "$work/out/${files[$i]}" | sed "s|$work|\$W|g; s/^ATTACK /- /" || echo "- nothing"
    if ! grep -q '^SUMMARY' "$work/out/${files[$i]}"; then
      echo "- the probe printed no SUMMARY; the tool's own output:"
      echo '```'
      grep -v '^ATTACK' "$work/out/${files[$i]}" | head -n 20 | sed "s|$work|\$W|g"
      echo '```'
    fi
  done
} >"$out"
cat "$out"
