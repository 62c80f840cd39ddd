#!/bin/bash
# Runs a command in cgroups of its own: CGROUP (a path below this process's own cgroup,
# made in every hierarchy, v1 cpusets given their parent's cpus and mems), a new cgroup
# namespace rooted there, and the cgroup hierarchies mounted afresh in a private mount
# namespace, so the command's absolute cgroup paths ("/cgrouptest") land below CGROUP.
# The caller removes CGROUP's tree afterwards.
# usage (as root): in_cgroup_namespace.sh CGROUP COMMAND [ARGS...]
set -euo pipefail
cgroup=${1#/}
shift
if [ "${AJ_IN_CGROUP_NS:-}" = 1 ]; then
  # Inside the new namespaces: each hierarchy again, showing the namespace's root, on a
  # fresh tmpfs over /sys/fs/cgroup (the kernel refuses a file system mounted again on the
  # very mount point it is already on top of).
  hierarchies=$(awk '{ for (i = 7; i < NF; i++) if ($i == "-") break
                       if ($(i + 1) == "cgroup" || $(i + 1) == "cgroup2") print $(i + 1), $5, $(i + 3) }' /proc/self/mountinfo)
  mount -t tmpfs -o mode=755,size=64k aj-cgroups /sys/fs/cgroup
  while read -r type point opts; do
    mkdir -p "$point"
    mount -t "$type" -o "$opts" "$type" "$point"
  done <<< "$hierarchies"
  exec "$@"
fi
for h in /sys/fs/cgroup/*/; do
  [ -e "${h}cgroup.procs" ] || continue
  path=${h%/}
  IFS=/ read -ra parts <<< "$cgroup"
  for part in "${parts[@]}"; do
    [ -n "$part" ] || continue
    path=$path/$part
    [ -d "$path" ] || mkdir "$path"
    if [ -e "$path/cpuset.cpus" ]; then
      for f in cpuset.cpus cpuset.mems; do
        [ -n "$(tr -d '\n' < "$path/$f")" ] || cat "${path%/*}/$f" > "$path/$f"
      done
    fi
  done
  echo $$ > "$path/cgroup.procs"
done
exec env AJ_IN_CGROUP_NS=1 unshare -m -C --propagation private -- "$0" "$cgroup" "$@"
