#!/bin/bash
# Everyday programs under the built-in default policy, unchanged (issue 13): each one a
# ctest entry, run as the caller and again as uid 65534 (--as-nobody, from root).
# With --learned, each run is first learned (`aurora-jail learn`, the default policy as its
# base) and then run under the policy it wrote, which must be enough for it.
# Usage: workloads.sh AURORA_JAIL_BINARY NAME [--learned] [--as-nobody]
# Exit 0 pass, 1 fail, 77 skipped (the program is not installed on this host).
set -euo pipefail
aj=$1; name=$2; shift 2
learned=; mode=
for a in "$@"; do
  case $a in
    --learned) learned=--learned ;;
    --as-nobody) mode=--as-nobody ;;
    *) echo "workloads: unknown option $a"; exit 2 ;;
  esac
done

if [ "$mode" = --as-nobody ]; then
  if [ "$(id -u)" != 0 ]; then echo "workloads: SKIP: needs root to switch to uid 65534"; exit 77; fi
  dir=$(mktemp -d /tmp/aj-workloads.XXXXXX)
  trap 'rm -rf "$dir"' EXIT
  chmod 755 "$dir"
  cp "$aj" "$dir/aurora-jail"; cp "$0" "$dir/workloads.sh"
  chmod 755 "$dir/aurora-jail" "$dir/workloads.sh"
  mkdir "$dir/tmp"; chown 65534:65534 "$dir/tmp"
  cd "$dir/tmp"
  set +e
  setpriv --reuid 65534 --regid 65534 --clear-groups --reset-env \
    env TMPDIR="$dir/tmp" PATH=/usr/bin:/bin "$dir/workloads.sh" "$dir/aurora-jail" "$name" $learned
  exit $?
fi

need() {
  for p in "$@"; do
    command -v "$p" >/dev/null || { echo "workloads: SKIP: $p is not installed"; exit 77; }
  done
}
work=$(mktemp -d "${TMPDIR:-/tmp}/aj-work.XXXXXX")
trap 'rm -rf "$work" "$work".*' EXIT
chmod 777 "$work"  # a root caller's sandbox runs as its own leased host uid
# The default policy, no --policy: the point is that these need nothing more.
runs=0
jail() {
  if [ -z "$learned" ]; then "$aj" run --workdir "$work" -- "$@"; return; fi
  runs=$((runs + 1))
  local policy="$work.policy-$runs.json"
  "$aj" learn --workdir "$work" --output "$policy" -- "$@" >/dev/null 2>"$work.learn-$runs.log" || true
  [ -s "$policy" ] || { echo "workloads: $name: learn wrote no policy"; cat "$work.learn-$runs.log"; exit 1; }
  # What the learning run left must not stand in the way of the real one: a root
  # caller's next run has another host uid, and git would find its commit made.
  chmod -R a+rwX "$work" 2>/dev/null || true
  rm -rf "$work/.git" "$work/db" "$work/key" "$work/key.pub"
  "$aj" run --policy "$policy" --workdir "$work" -- "$@"
}
expect() {  # expect WANTED ACTUAL
  if [ "$2" != "$1" ]; then echo "workloads: $name: expected [$1], got [$2]"; exit 1; fi
  echo "workloads: $name: ok"
}

case $name in
  cc_make)
    need cc make
    printf '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n' >"$work/hello.c"
    printf 'hello: hello.c\n\t$(CC) -O1 -o $@ $<\n' >"$work/Makefile"
    jail make -s -C "$work" >/dev/null
    expect hello "$(jail "$work/hello")"
    ;;
  python_ssl)
    need python3
    out=$(jail python3 -c '
import ssl
c = ssl.create_default_context()
n = c.cert_store_stats()["x509_ca"]
assert n > 0, "no CA certificates loaded"
print("ok" if ssl.get_default_verify_paths().cafile else "no cafile")')
    expect ok "$out"
    ;;
  whoami)
    need whoami python3
    expect "sandbox sandbox" "$(jail /bin/sh -c 'echo $(whoami) $(python3 -c "import getpass; print(getpass.getuser())")')"
    ;;
  openssl_req)
    need openssl
    jail openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=aurora-jail-test \
      -days 1 -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
    expect "subject=CN = aurora-jail-test" "$(jail openssl x509 -in "$work/cert.pem" -noout -subject)"
    ;;
  alternatives_awk)
    need awk
    [ -L /etc/alternatives/awk ] || { echo "workloads: SKIP: awk is not an alternatives link here"; exit 77; }
    expect two "$(jail /bin/sh -c 'echo "one two" | awk "{print \$2}"')"
    ;;
  perl)
    need perl
    expect "ok sandbox" "$(jail perl -MPOSIX -e 'print "ok ", scalar getpwuid($<), "\n"')"
    ;;
  git)
    need git
    echo data >"$work/file"
    # One run: a root caller's every run has a host uid of its own, which could not
    # write what the previous one created.
    expect first "$(jail /bin/sh -c "cd '$work' && git init -q && git add file &&
      git -c user.name=t -c user.email=t@example.org commit -q -m first && git log --format=%s")"
    ;;
  sqlite3)
    need sqlite3
    expect 42 "$(jail sqlite3 "$work/db" 'create table t(x); insert into t values (42); select x from t;')"
    ;;
  # Large toolchains and the rest of issue 13's list: bench/workloads.sh runs these (too
  # slow or too large for every CI run; scripts/deps.sh --bench installs them).
  java)
    need java
    printf 'public class H { public static void main(String[] a) { System.out.println(System.getProperty("user.name")); } }\n' >"$work/H.java"
    expect sandbox "$(jail java "$work/H.java")"
    ;;
  node)
    need node
    expect sandbox "$(jail node -e 'console.log(require("os").userInfo().username)')"
    ;;
  go)
    need go
    printf 'package main\nimport "fmt"\nfunc main() { fmt.Println("hello") }\n' >"$work/h.go"
    expect hello "$(jail /usr/bin/env HOME=/tmp GOCACHE=/tmp/go-cache GOPATH=/tmp/go go run "$work/h.go")"
    ;;
  lzma)
    need lzma
    expect hello "$(jail /bin/sh -c 'echo hello | lzma | lzma -d')"
    ;;
  vi)
    need vi
    jail vi -es -c 'put =\"edited\"' -c "wq! $work/v.txt" </dev/null
    expect edited "$(grep edited "$work/v.txt")"
    ;;
  ssh_keygen)
    need ssh-keygen
    jail ssh-keygen -q -t ed25519 -N '' -f "$work/key" </dev/null
    expect "$(cut -d' ' -f1 "$work/key.pub")" ssh-ed25519
    ;;
  numpy)
    need python3
    # Debian's python3 (the caller's PATH may name another), whose numpy finds libblas
    # through /etc/alternatives.
    /usr/bin/python3 -c 'import numpy' 2>/dev/null || { echo "workloads: SKIP: python3-numpy is not installed"; exit 77; }
    expect 6.0 "$(jail /usr/bin/python3 -c 'import numpy; print(float(numpy.dot([1, 2], [2, 2])))')"
    ;;
  convert)
    need convert
    convert -version 2>/dev/null | grep -q ImageMagick || { echo "workloads: SKIP: convert is not ImageMagick's"; exit 77; }
    jail convert -size 2x2 xc:red "$work/red.png"
    expect PNG "$(head -c 4 "$work/red.png" | tail -c 3)"
    ;;
  *) echo "workloads: unknown workload $name"; exit 2 ;;
esac
