# Shared by tests/oci/*.sh: a busybox-only root file system as a tarball (the image the
# engines import: no registry is needed), and skipping (exit 77, ctest's SKIP_RETURN_CODE)
# with the reason.
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; failed=1; }

# busybox_rootfs_tar DIR OUT.tar: DIR/rootfs holds the static busybox and one link per applet.
busybox_rootfs_tar() {
  local dir=$1 out=$2 bb=/bin/busybox
  file -L "$bb" 2>/dev/null | grep -q 'statically linked' || skip "busybox-static is not installed"
  mkdir -p "$dir/rootfs/bin" "$dir/rootfs/etc" "$dir/rootfs/tmp" "$dir/rootfs/proc" "$dir/rootfs/dev" "$dir/rootfs/sys"
  cp "$bb" "$dir/rootfs/bin/busybox"
  local applet
  for applet in $("$bb" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$dir/rootfs/bin/$applet"
  done
  echo 'root:x:0:0:root:/:/bin/sh' > "$dir/rootfs/etc/passwd"
  echo 'root:x:0:' > "$dir/rootfs/etc/group"
  tar -C "$dir/rootfs" -cf "$out" .
}

# Unmounts whatever an engine left mounted below DIR (deepest first), then removes DIR.
remove_tree_with_mounts() {
  local dir=$1 m
  for m in $(awk -v d="$dir" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
    umount -l "$m" 2>/dev/null
  done
  rm -rf "$dir"
}

# The engines make every missing directory of a cgroup parent they are given, in every
# hierarchy, and remove only the container's own. make_cgroup_base BASE makes what is
# missing of BASE (this process's own cgroup path) first, in each hierarchy, and
# remove_cgroup_base removes exactly those afterwards, deepest first.
cgroup_base_made=()
make_cgroup_base() {
  local base=$1 h path part
  [ -n "$base" ] || return 0
  for h in /sys/fs/cgroup/*/; do
    [ -e "${h}cgroup.procs" ] || continue
    path=${h%/}
    local IFS=/
    for part in ${base#/}; do
      path=$path/$part
      if [ ! -d "$path" ]; then
        mkdir "$path" || return 1
        cgroup_base_made+=("$path")
        # A new v1 cpuset has no cpus or mems, and nothing can join it or its children.
        if [ -e "$path/cpuset.cpus" ]; then
          cat "${path%/*}/cpuset.cpus" > "$path/cpuset.cpus" && cat "${path%/*}/cpuset.mems" > "$path/cpuset.mems" || return 1
        fi
      fi
    done
  done
}
remove_cgroup_base() {
  local i
  for ((i = ${#cgroup_base_made[@]} - 1; i >= 0; i--)); do rmdir "${cgroup_base_made[i]}" 2>/dev/null; done
}
