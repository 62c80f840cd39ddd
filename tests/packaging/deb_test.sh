#!/bin/bash
# packaging.deb: the .deb a deployer gets, checked the way a deployer meets it.
# Usage: deb_test.sh BUILD_DIR   (env: AJ_SOURCE_DIR, CMAKE_COMMAND)
# Exit 0 pass, 1 fail, 77 skipped (not root, or aurora-jail already installed here).
# Steps that need a sub-command not built yet are skipped with a "SKIP step" line.
set -euo pipefail

build=$(cd "${1:?usage: deb_test.sh BUILD_DIR}" && pwd)
src=${AJ_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
cmake_cmd=${CMAKE_COMMAND:-cmake}
unit=aurora-jail-host.service
unit_dir=/lib/systemd/system

step() { printf '\n== packaging.deb: %s\n' "$*"; }
note() { printf 'packaging.deb: %s\n' "$*"; }
skip_step() { printf 'packaging.deb: SKIP step: %s\n' "$*"; }
fail() { printf 'packaging.deb: FAIL: %s\n' "$*" >&2; exit 1; }

if [ "$(id -u)" != 0 ]; then
    echo "packaging.deb: skipped: needs root to install the package"
    exit 77
fi
# Installed, or removed with its configuration kept: a deployer's, not ours to purge.
pkg_status() { dpkg-query -W -f='${Status}' aurora-jail 2>/dev/null || true; }
case $(pkg_status) in "" | *not-installed) ;; *)
    echo "packaging.deb: skipped: aurora-jail is already installed on this machine;" \
         "this test installs and purges it and will not touch a deployer's installation"
    exit 77 ;;
esac
for tool in dpkg-deb apt-get lintian systemd-analyze getcap setpriv readelf man; do
    command -v "$tool" >/dev/null || fail "$tool missing (scripts/deps.sh installs it)"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/aj-packaging.XXXXXX")
installed=0
daemon_pid=""
cleanup() {
    if [ -n "$daemon_pid" ]; then kill "$daemon_pid" 2>/dev/null || true; wait "$daemon_pid" 2>/dev/null || true; fi
    # Never leave the package on the machine, whatever failed.
    if [ "$installed" = 1 ] && dpkg-query -W aurora-jail >/dev/null 2>&1; then
        DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq aurora-jail >/dev/null 2>&1 || true
    fi
    # The policy the purge step writes, when a failure stopped the test before it removed it.
    if [ -n "${kept:-}" ]; then rm -f "$kept"; rmdir /etc/aurora-jail/policies /etc/aurora-jail 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# True when the sub-command path exists and is not a placeholder: each word must be
# listed under "Subcommands:" in its parent's --help (CLI11 answers `X --help` for an
# unknown X with the parent's help, so a plain --help probe proves nothing).
have_cmd() {
    local bin=$1 out
    shift
    local parent=("$bin")
    for word in "$@"; do
        out=$("${parent[@]}" --help 2>&1) || return 1
        sed -n '/^Subcommands:/,/^$/p' <<<"$out" | grep -Eq "^  $word( |$)" || return 1
        parent+=("$word")
    done
    out=$("${parent[@]}" --help 2>&1) || return 1
    ! grep -q "not yet built" <<<"$out"
}

# ---------------------------------------------------------------------------------
step "build the package (cmake --build $build --target deb)"
arch=$(dpkg --print-architecture)
rm -f "$build"/aurora-jail_*.deb
"$cmake_cmd" --build "$build" --target deb
shopt -s nullglob
debs=("$build"/aurora-jail_*_"$arch".deb)
shopt -u nullglob
[ ${#debs[@]} -eq 1 ] || fail "expected one aurora-jail_VERSION_$arch.deb in $build, found ${#debs[@]}"
deb=${debs[0]}
version=$(dpkg-deb --field "$deb" Version)
[ "$(basename "$deb")" = "aurora-jail_${version}_${arch}.deb" ] || fail "bad file name $(basename "$deb")"
note "built $(basename "$deb")"
dpkg-deb --info "$deb" | sed -n '/Package:/,$p'

step "control data: Depends from the shared libraries, conffiles, no setuid"
mkdir -p "$work/x"
dpkg-deb -x "$deb" "$work/x"
depends=$(dpkg-deb --field "$deb" Depends)
# Each library the binary needs must come from a package named in Depends.
while read -r lib; do
    # awk reads all of its input (no early exit): under pipefail, ldconfig killed by
    # SIGPIPE would fail the step at random.
    path=$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64|x86_64/ && p == "" {p = $NF} END {print p}')
    [ -n "$path" ] || path=$(ldconfig -p | awk -v l="$lib" '$1 == l && p == "" {p = $NF} END {print p}')
    [ -n "$path" ] || fail "cannot resolve NEEDED $lib"
    real=$(readlink -f "$path")
    owner=$(dpkg -S "$real" 2>/dev/null | head -1 | cut -d: -f1) \
        || owner=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1) || true
    [ -n "$owner" ] || fail "no package owns $path"
    printf '%s\n' "${depends//[,|]/$'\n'}" | sed 's/^ *//; s/[ (].*//' | grep -Fxq "$owner" || fail "Depends lacks $owner (for $lib): $depends"
    note "NEEDED $lib -> $owner: in Depends"
done < <(readelf -d "$work/x/usr/bin/aurora-jail" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
# libsystemd.so.0 is dlopen()ed for a systemd scope, so shlibdeps cannot name its package.
needed=$(readelf -d "$work/x/usr/bin/aurora-jail")
if grep -q 'NEEDED.*libsystemd' <<<"$needed"; then fail "aurora-jail links libsystemd (it is dlopen()ed)"; fi
recommends=$(dpkg-deb --field "$deb" Recommends)
printf '%s\n' "${recommends//[,|]/$'\n'}" | sed 's/^ *//; s/[ (].*//' | grep -Fxq libsystemd0 \
    || fail "Recommends lacks libsystemd0 (dlopen()ed for the systemd scope): $recommends"
note "Recommends: $recommends"
etc_files=$(cd "$work/x" && find etc -type f | sed 's|^|/|' | sort)
conffiles=$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | sort)
[ "$etc_files" = "$conffiles" ] || fail "conffiles ($conffiles) differ from files in /etc ($etc_files)"
[ -n "$conffiles" ] || fail "no conffiles"
note "conffiles: $(tr '\n' ' ' <<<"$conffiles")"
bad=$(find "$work/x" -perm /6000)
[ -z "$bad" ] || fail "setuid/setgid in package: $bad"
for page in usr/share/man/man1/aurora-jail.1.gz usr/share/man/man5/aurora-jail-policy.5.gz; do
    [ -f "$work/x/$page" ] || fail "missing $page"
    warnings=$(man --warnings -E UTF-8 -l "$work/x/$page" 2>&1 >/dev/null)
    [ -z "$warnings" ] || fail "$page: man warnings: $warnings"
done
note "man pages render without warnings"

step "lintian (errors fail the test; every finding is printed)"
set +e
lintian_out=$(lintian --fail-on error --display-info --pedantic "$deb" 2>&1)
lintian_rc=$?
set -e
lintian_out=$(grep -v 'running with root privileges' <<<"$lintian_out" || true)
printf '%s\n' "${lintian_out:-lintian: no findings}"
[ "$lintian_rc" = 0 ] || fail "lintian reports errors"

step "lifecycle: install-dry-run.sh"
"$src/packaging/lifecycle/install-dry-run.sh" "$deb"

# ---------------------------------------------------------------------------------
step "apt-get install ./$(basename "$deb")"
# Whatever a deployer left under /etc/aurora-jail (policies written after an earlier
# install, which purge keeps) is theirs: the purge check below judges only the package.
{ find /etc/aurora-jail -type f 2>/dev/null || true; } | sort >"$work/foreign-before"  # no /etc/aurora-jail on a clean host
installed=1
(cd "$build" && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "./$(basename "$deb")")
dpkg-query -W -f='${Status}\n' aurora-jail | grep -q "install ok installed" || fail "not installed"
aj=/usr/bin/aurora-jail
out=$("$aj" --version)
[ "$out" = "aurora-jail $version" ] || fail "--version printed '$out', want 'aurora-jail $version'"
note "aurora-jail --version: $out"
# The OCI runtime face (docs/oci.md) ships beside it.
runc_out=$(/usr/bin/aurora-runc --version | head -1)
[ "$runc_out" = "aurora-runc version $version" ] || fail "aurora-runc --version printed '$runc_out'"
note "aurora-runc --version: $runc_out"
if [ -e /etc/systemd/system/multi-user.target.wants/$unit ]; then
    fail "$unit was enabled by the installation (it must be installed disabled)"
fi
[ "$(stat -c '%a %U' /var/lib/aurora-jail)" = "711 root" ] || fail "/var/lib/aurora-jail: $(stat -c '%a %U' /var/lib/aurora-jail)"

step "AppArmor profile: in /etc/apparmor.d exactly where AppArmor 4 can parse it"
if [ -e /etc/apparmor.d/abi/4.0 ]; then
    [ -f /etc/apparmor.d/aurora-jail ] || fail "AppArmor 4 present but /etc/apparmor.d/aurora-jail not installed"
    if command -v apparmor_parser >/dev/null; then
        apparmor_parser -Q -K /etc/apparmor.d/aurora-jail || fail "apparmor_parser rejects the profile"
        note "profile installed and parses"
    fi
else
    [ ! -e /etc/apparmor.d/aurora-jail ] || fail "profile installed where AppArmor cannot parse it"
    skip_step "no AppArmor 4 here: profile correctly not installed; its syntax is not checked"
fi

step "no installed file is setuid/setgid or carries file capabilities"
while read -r f; do
    if [ ! -f "$f" ] || [ -L "$f" ]; then continue; fi
    if [ -u "$f" ] || [ -g "$f" ]; then fail "$f is setuid/setgid"; fi
    caps=$(getcap "$f")
    [ -z "$caps" ] || fail "$f has file capabilities: $caps"
done < <(dpkg -L aurora-jail)
note "$(dpkg -L aurora-jail | wc -l) paths checked"

step "bash completion loads and completes sub-commands"
completion=/usr/share/bash-completion/completions/aurora-jail
if [ -f /usr/share/bash-completion/bash_completion ]; then
    got=$(bash -c 'source /usr/share/bash-completion/bash_completion; source '"$completion"'
        COMP_LINE="aurora-jail po"; COMP_POINT=${#COMP_LINE}; COMP_WORDS=(aurora-jail po); COMP_CWORD=1
        _aurora_jail aurora-jail po aurora-jail
        echo "${COMPREPLY[*]}"')
    [ "$got" = policy ] || fail "completion of 'aurora-jail po' gave '$got'"
    note "completion ok"
else
    bash -n "$completion" || fail "$completion: syntax error"
    skip_step "bash-completion not installed: syntax checked only"
fi

step "installed policies validate"
if have_cmd "$aj" policy validate; then
    "$aj" policy validate /etc/aurora-jail/policies/*.json || fail "shipped policies do not validate"
else
    skip_step "'aurora-jail policy validate' not built yet"
fi

step "aurora-jail check"
check_rc=unknown
if have_cmd "$aj" check; then
    set +e
    "$aj" check
    check_rc=$?
    set -e
    case $check_rc in
        0) note "check: full isolation available" ;;
        1) note "check: no full isolation on this host (exit 1)" ;;
        *) fail "aurora-jail check exited $check_rc" ;;
    esac
else
    skip_step "'aurora-jail check' not built yet"
fi

step "a sandboxed command from /usr/bin"
if have_cmd "$aj" run && "$aj" run -- /bin/true 2>"$work/run.err"; then
    out=$("$aj" run -- /usr/bin/id -u)
    note "aurora-jail run -- /usr/bin/id -u: $out"
    # The package carries the default policy's seccomp program compiled at build time; it
    # serves only with the libseccomp build it was compiled by (the one installed here).
    "$aj" run --json -- /bin/true | grep -q '"precompiled":true' \
        || fail "the installed aurora-jail compiled the default seccomp program at run time (built-in program not used)"
    note "built-in seccomp program used"
    if [ "$check_rc" = 0 ]; then  # rlimit-only mode shows the host's files by design
        "$aj" run -- /usr/bin/test ! -e /etc/shadow || fail "/etc/shadow visible in the sandbox"
        note "/etc/shadow not visible in the sandbox"
    fi
    for p in default strict network-host; do
        if "$aj" run --policy "$p" -- /bin/true 2>"$work/run.err"; then
            note "run --policy $p: ok"
        elif grep -q "no such policy" "$work/run.err"; then
            # Named-policy lookup is run's business; the shipped file must work anyway.
            note "NOT VERIFIED: run --policy $p (by name): $(cat "$work/run.err")"
            "$aj" run --policy "/etc/aurora-jail/policies/$p.json" -- /bin/true \
                || fail "run --policy /etc/aurora-jail/policies/$p.json -- /bin/true failed"
            note "run --policy /etc/aurora-jail/policies/$p.json: ok"
        else
            fail "run --policy $p -- /bin/true failed: $(cat "$work/run.err")"
        fi
    done
    # The unit's capability bounding set must be enough for a sandbox (systemd is not
    # PID 1 here, so emulate that part of the unit with setpriv).
    caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit_dir/$unit" | tr '[:upper:]' '[:lower:]' | sed 's/cap_/+/g; s/ /,/g')
    [ -n "$caps" ] || fail "no CapabilityBoundingSet in $unit"
    setpriv --no-new-privs --bounding-set "-all,$caps" -- "$aj" run -- /bin/true \
        || fail "a sandbox does not start under the unit's bounding set ($caps)"
    note "sandbox starts under the unit's bounding set ($caps) + no_new_privs"
elif have_cmd "$aj" run; then
    fail "aurora-jail run -- /bin/true failed: $(cat "$work/run.err")"
else
    skip_step "'aurora-jail run' not built yet"
fi

step "the host daemon under the unit's confinement (emulated without systemd)"
if have_cmd "$aj" host && have_cmd "$aj" submit && have_cmd "$aj" stage && [ "$check_rc" = 0 ]; then
    mkdir "$work/unit-scratch"
    unshare --mount --propagation private \
        "$src/tests/packaging/unit_emulation.sh" "$unit_dir/$unit" "$work/unit-scratch" \
        || fail "aurora-jail does not work under the unit's confinement"
elif [ "$check_rc" != 0 ]; then
    skip_step "no full isolation on this host (aurora-jail check): unit emulation not meaningful"
else
    skip_step "'aurora-jail host', 'submit' or 'stage' not built yet"
fi

step "systemd-analyze verify $unit"
set +e
verify_out=$(systemd-analyze verify "$unit_dir/$unit" 2>&1)
verify_rc=$?
set -e
printf '%s\n' "${verify_out:-(clean)}"
[ "$verify_rc" = 0 ] || fail "systemd-analyze verify exited $verify_rc"
! grep -q "$unit" <<<"$verify_out" || fail "systemd-analyze verify complains about $unit"
systemd-analyze security --offline=yes "$unit_dir/$unit" 2>/dev/null | tail -1 || true

step "lifecycle: health check against a running daemon (heartbeat)"
if have_cmd "$aj" host; then
    state=$work/state
    mkdir -m 0755 "$state"
    "$aj" host --state-dir "$state" >"$work/host.log" 2>&1 &
    daemon_pid=$!
    hb=$state/host.heartbeat
    # Up to 60 s: the daemon writes it at once, but a loaded CI machine may take a while.
    for _ in $(seq 1 600); do [ -e "$hb" ] && break; sleep 0.1; done
    if [ -e "$hb" ]; then
        "$src/packaging/lifecycle/health-check.sh" --state-dir "$state" --allow-degraded \
            || fail "health check failed against a running daemon"
        kill -TERM "$daemon_pid"
        wait "$daemon_pid" || true
        daemon_pid=""
        # A fresh heartbeat of a daemon that is gone, then a stale one: both unhealthy.
        touch "$hb"
        if "$src/packaging/lifecycle/health-check.sh" --state-dir "$state" --allow-degraded; then
            fail "health check passed with a stopped daemon (fresh heartbeat, dead pid)"
        fi
        touch -d '-10 minutes' "$hb"
        if "$src/packaging/lifecycle/health-check.sh" --state-dir "$state" --allow-degraded; then
            fail "health check passed with a stopped daemon and a stale heartbeat"
        fi
        note "health check: passes with a live daemon; fails for a dead pid or a stale heartbeat"
    else
        skip_step "daemon ran but wrote no $hb (heartbeat not built yet): $(head -c 300 "$work/host.log")"
    fi
else
    skip_step "'aurora-jail host' not built yet"
fi
if "$src/packaging/lifecycle/health-check.sh" --state-dir "$work/none" --allow-degraded --quiet; then
    fail "health check passed with no daemon at all"
fi

# ---------------------------------------------------------------------------------
step "purge: the package's files and state go, policies a deployer wrote stay"
# A policy written the way the README's tour does (root: /etc/aurora-jail/policies).
kept_name=aj-deb-test-kept-$$
printf '{"max_pids": 7}\n' >"$work/kept.json"
"$aj" policy write "$kept_name" "$work/kept.json" >/dev/null || fail "policy write $kept_name failed"
kept=/etc/aurora-jail/policies/$kept_name.json
dpkg -L aurora-jail | sort >"$work/files"
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq aurora-jail
installed=0
case $(pkg_status) in "" | *not-installed) ;; *) fail "after purge: $(pkg_status)" ;; esac
left=""
while read -r p; do
    case $p in
        /etc/aurora-jail|/etc/aurora-jail/policies) ;;  # judged below: they hold kept policies
        /etc/aurora-jail*|/usr/share/aurora-jail*|/usr/share/doc/aurora-jail*|*/aurora-jail|*/aurora-jail.*|*/aurora-jail-*)
            [ -e "$p" ] && left+=" $p" ;;
        *) [ -f "$p" ] && left+=" $p" ;;  # shared directories may stay, files may not
    esac
done <"$work/files"
[ -f "$kept" ] || fail "purge removed $kept, a policy the deployer wrote (README: purge keeps them)"
rm -f "$kept"
# Nothing else under /etc/aurora-jail but what was there before the install; its
# directories stay only while they hold such files.
while read -r p; do
    grep -qxF "$p" "$work/foreign-before" || left+=" $p"
done < <(find /etc/aurora-jail -type f 2>/dev/null | sort)
if [ ! -s "$work/foreign-before" ]; then
    rmdir /etc/aurora-jail/policies /etc/aurora-jail 2>/dev/null || true
    [ ! -e /etc/aurora-jail ] || left+=" /etc/aurora-jail"
fi
for p in /var/lib/aurora-jail /etc/apparmor.d/aurora-jail \
         /var/lib/dpkg/info/aurora-jail.list /var/lib/dpkg/info/aurora-jail.postrm; do
    [ ! -e "$p" ] || left+=" $p"
done
leftover_state=$(find /var/lib/systemd/deb-systemd-helper-enabled /var/lib/systemd/deb-systemd-helper-masked \
                 -name "*aurora-jail*" 2>/dev/null || true)
left+=${leftover_state:+ $leftover_state}
[ -z "$left" ] || fail "left after purge:$left"
note "nothing of the package left after purge; the deployer's policy was kept"
echo
echo "packaging.deb: PASS"
