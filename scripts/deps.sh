#!/bin/bash
# Installs the Debian packages a job needs. Usage: scripts/deps.sh [--test|--bench]
#   (none)   building aurora-jail and its .deb (scripts/demo.sh)
#   --test   that, plus the test suite's tools (scripts/test.sh)
#   --bench  that, plus the test tools and the peers compared (bench/compare.sh)
# Idempotent: packages already present are left alone and apt is not touched. When another
# apt or dpkg holds the lock, waits for it (up to 10 minutes) instead of failing at once.
set -euo pipefail
build_pkgs=(
  g++ cmake ninja-build pkg-config
  libseccomp-dev libcap-dev libmnl-dev libmd-dev libsystemd-dev nlohmann-json3-dev libcli11-dev
  dpkg-dev file gzip
)
test_pkgs=(
  git libgtest-dev
  clang clang-tidy libclang-rt-14-dev
  util-linux iproute2 python3 python3-pytest
  qemu-system-x86 busybox-static cpio xz-utils binutils mmdebstrap dbus
  lintian systemd libcap2-bin man-db bash-completion
  gcc make openssl ca-certificates perl sqlite3 mawk
  # tests/oci/*.sh: the container engines that drive aurora-runc
  podman conmon containerd
)
bench_pkgs=(bubblewrap firejail crun hyperfine time linux-perf libc6-dev
  # bench/workloads.sh: the large programs of issue 13's list
  default-jdk-headless nodejs golang-go xz-utils vim-tiny openssh-client python3-numpy imagemagick)
pkgs=("${build_pkgs[@]}")
case "${1:-}" in
  "") ;;
  --test) pkgs+=("${test_pkgs[@]}") ;;
  --bench) pkgs+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  *) echo "usage: scripts/deps.sh [--test|--bench]" >&2; exit 2 ;;
esac
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "scripts/deps.sh: need root to install: ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
lock_wait=600
# apt waits for the dpkg frontend lock itself (DPkg::Lock::Timeout); `apt-get update`'s
# lists lock is not covered by that option on every apt version, so a run that still
# reports a held lock is retried until the same deadline.
apt_waiting() {
  local deadline=$((SECONDS + lock_wait)) log rc
  log=$(mktemp)
  while :; do
    set +e
    apt-get -o DPkg::Lock::Timeout="$lock_wait" "$@" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    set -e
    if [ "$rc" = 0 ] || ! grep -qiE 'could not get lock|unable to (acquire|lock)' "$log" ||
       [ "$SECONDS" -ge "$deadline" ]; then
      rm -f "$log"
      return "$rc"
    fi
    echo "scripts/deps.sh: another apt/dpkg holds the lock; waiting" >&2
    sleep 5
  done
}
apt_waiting update -qq
apt_waiting install -y -qq --no-install-recommends "${missing[@]}"
