#!/bin/bash
# Dry run of an installation: inspect an aurora-jail .deb and show what installing it
# would do, changing nothing on this system. Like the prototype's `install.sh --dry-run`
# (which ran its tests), it also tries the package: its aurora-jail, unpacked into a
# temporary directory, checks this host and runs a sandbox, and its Python compat layer
# stages and runs a plugin, all with a temporary state directory.
# Usage: install-dry-run.sh [--dry-run] [--no-try] [PATH/TO/aurora-jail_*.deb]
#   --dry-run  the prototype's flag; this is always a dry run (accepted, the default)
#   --no-try   only inspect the package, run nothing from it
# Exit 0: the package is sound and would install; 1: it would not (reason on stderr).
set -euo pipefail

say() { printf 'aurora-jail dry-run: %s\n' "$*"; }
fail() { printf 'aurora-jail dry-run: FAIL: %s\n' "$*" >&2; exit 1; }

try=1
deb=
while [ $# -gt 0 ]; do
    case $1 in
        --dry-run) shift ;;
        --no-try) try=0; shift ;;
        --install) echo "install-dry-run: --install is not a dry run: apt-get install ./aurora-jail_*.deb" >&2; exit 2 ;;
        -*) echo "usage: $0 [--dry-run] [--no-try] [PATH/TO/aurora-jail_*.deb]" >&2; exit 2 ;;
        *) deb=$1; shift ;;
    esac
done
if [ -z "$deb" ]; then
    shopt -s nullglob
    found=(./aurora-jail_*.deb)
    [ ${#found[@]} -eq 1 ] || fail "give the .deb to check (found ${#found[@]} in $(pwd))"
    deb=${found[0]}
fi
[ -f "$deb" ] || fail "$deb: no such file"
case $deb in /*|./*|../*) ;; *) deb=./$deb ;; esac  # apt needs a path, not a name

pkg=$(dpkg-deb --field "$deb" Package) || fail "$deb: not a Debian package"
[ "$pkg" = aurora-jail ] || fail "$deb: package is '$pkg', not aurora-jail"
say "package $pkg $(dpkg-deb --field "$deb" Version) ($(dpkg-deb --field "$deb" Architecture))"
say "depends: $(dpkg-deb --field "$deb" Depends)"

# A sandbox runner must never rely on privilege: no setuid/setgid file in the package.
# (A .deb cannot carry file capabilities; the installed-system test checks with getcap.)
special=$(dpkg-deb --contents "$deb" | awk 'substr($1,1,1) != "d" && $1 ~ /[sS]/ {print $NF}')
[ -z "$special" ] || fail "setuid/setgid files in the package: $special"
say "no setuid or setgid files"

say "conffiles:"
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | sed 's/^/  /'

if command -v lintian >/dev/null 2>&1; then
    if lintian_out=$(lintian --fail-on error "$deb" 2>&1 | { grep -v 'running with root privileges' || true; }); then
        say "lintian: no errors${lintian_out:+ (other findings below)}"
        [ -z "$lintian_out" ] || printf '%s\n' "$lintian_out" | sed 's/^/  /'
    else
        printf '%s\n' "$lintian_out" >&2
        fail "lintian reports errors"
    fi
else
    say "lintian not installed: skipped"
fi

# apt resolves the dependencies against this system without installing anything.
if ! sim=$(apt-get install --simulate --no-install-recommends "$deb" 2>&1); then
    printf '%s\n' "$sim" >&2
    fail "apt-get cannot install $deb here"
fi
printf '%s\n' "$sim" | grep -E '^(Inst|Conf) ' | sed 's/^/  /' || true

if [ "$try" = 1 ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    dpkg-deb -x "$deb" "$tmp/root"
    chmod 755 "$tmp"   # a root caller's sandbox (uid 65534) must reach the test package
    aj=$tmp/root/usr/bin/aurora-jail
    if check_out=$("$aj" check 2>&1); then
        say "aurora-jail check: full isolation available"
    else
        say "aurora-jail check: no full isolation here (runs would be rlimit-only or refused):"
        printf '%s\n' "$check_out" | sed 's/^/  /'
    fi
    out=$("$aj" run -- /bin/sh -c 'echo dry-run-ok') || fail "the packaged aurora-jail cannot run a sandbox here"
    [ "$out" = dry-run-ok ] || fail "sandbox output was '$out'"
    say "a sandbox ran (aurora-jail run)"
    pydir=$(find "$tmp/root/usr/lib" -maxdepth 4 -type d -name aurora_jail -print -quit 2>/dev/null || true)
    if [ -n "$pydir" ] && command -v python3 >/dev/null 2>&1; then
        mkdir -p "$tmp/pkg" "$tmp/state"
        printf '{"id": "dry.run", "name": "dry run", "version": "0", "entrypoint": "run.sh"}\n' > "$tmp/pkg/manifest.json"
        printf 'echo compat-ok\n' > "$tmp/pkg/run.sh"
        chmod -R a+rX "$tmp/pkg"
        res=$(PYTHONPATH=$(dirname "$pydir") AURORA_JAIL="$aj" AURORA_JAIL_STATE_DIR=$tmp/state python3 -c '
import sys
from aurora_jail.compat.loader.sandbox_runtime import SandboxRuntime
sr = SandboxRuntime("dry.run")
sr.stage_package(sys.argv[1])
res = sr.run_entry("sh run.sh", timeout=10)
print(res["rc"], res["stdout"].strip())' "$tmp/pkg") || fail "the Python compat layer failed"
        [ "$res" = "0 compat-ok" ] || fail "Python compat run gave '$res'"
        say "the Python compat layer staged and ran a plugin"
    fi
fi
say "OK: $deb would install"
