#!/bin/bash
# Installs every Debian package the build, the tests and the benchmarks need.
# Idempotent: packages already present are left alone and apt is not touched.
set -euo pipefail
pkgs=(
  g++ cmake ninja-build pkg-config git
  libseccomp-dev libcap-dev libmnl-dev libmd-dev nlohmann-json3-dev libcli11-dev libgtest-dev
  clang clang-tidy libclang-rt-14-dev
  util-linux iproute2 python3 python3-pytest
  qemu-system-x86 busybox-static cpio gzip xz-utils binutils
  dpkg-dev file lintian systemd libcap2-bin man-db bash-completion
)
if [ "${1:-}" = "--bench" ]; then
  pkgs+=(bubblewrap firejail crun hyperfine time linux-perf libc6-dev)
fi
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
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
