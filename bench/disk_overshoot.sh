#!/bin/bash
# The disk budget's overshoot (docs/policy.md, "Disk budget"): how far past max_disk_mb a
# writer as fast as this host allows gets before the watch kills it. The writers use no
# file size limit and write 1 MiB blocks from /dev/zero through the page cache; one
# writer, then four in parallel. Prints, per budget, what each run left on disk (MiB,
# from st_blocks) and the largest overshoot seen. This is accounting's overshoot: run as
# root where /tmp has project quotas, the empty --workdir gets one and the budget holds
# exactly (vm.project_quota measures both in its VM: tests/vm/run-project-quota.sh).
#
# Usage: bash bench/disk_overshoot.sh [AURORA_JAIL_BINARY] [RUNS]
#   default binary: build/aurora-jail; RUNS per case (default 5)
set -euo pipefail
aj=${1:-build/aurora-jail}
runs=${2:-5}
tmp=$(mktemp -d /tmp/aj-overshoot.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
chmod 0755 "$tmp"

one='exec dd if=/dev/zero of=f bs=1M status=none'
four='for i in 1 2 3 4; do dd if=/dev/zero of=f$i bs=1M status=none & done; wait'
printf '%-8s %-9s %-30s %s\n' budget writers "left (MiB)" "max overshoot (MiB)"
for mb in 16 64 256; do
  printf '{"max_disk_mb": %d, "max_file_size_mb": null, "max_memory_mb": null, "timeout_sec": 60}\n' "$mb" \
    >"$tmp/policy.json"
  for writers in 1 4; do
    script=$one
    [ "$writers" = 4 ] && script=$four
    left=() worst=0
    for _ in $(seq "$runs"); do
      work=$tmp/work
      mkdir "$work" && chmod 1777 "$work"
      "$aj" run --policy "$tmp/policy.json" --workdir "$work" -- /bin/sh -c "$script" 2>/dev/null || true
      used=$(( $(du -s --block-size=1M "$work" | cut -f1) ))
      left+=("$used")
      (( used - mb > worst )) && worst=$(( used - mb ))
      rm -rf "$work"
    done
    printf '%-8s %-9s %-30s %s\n' "$mb" "$writers" "${left[*]}" "$worst"
  done
done
