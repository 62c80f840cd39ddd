#!/bin/bash
# Dry run of an installation: inspect an aurora-jail .deb and show what installing it
# would do, changing nothing. Usage: install-dry-run.sh [PATH/TO/aurora-jail_*.deb]
# Exit 0: the package is sound and would install; 1: it would not (reason on stderr).
set -euo pipefail

say() { printf 'aurora-jail dry-run: %s\n' "$*"; }
fail() { printf 'aurora-jail dry-run: FAIL: %s\n' "$*" >&2; exit 1; }

deb=${1:-}
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
say "OK: $deb would install"
