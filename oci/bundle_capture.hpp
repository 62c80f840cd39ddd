// The root monitor's capture of a bundle: before launch() clones anything, each of the
// plan's binds becomes a detached tree (open_tree) that PID 1 attaches as it is
// (helper::ExtraBind::tree). Two reasons, both about the sandbox's host uid being a
// leased id that owns nothing:
// - a bundle directory of mode 0700 (what Go's TempDir makes, and engines' private
//   directories) cannot be walked by that uid: PID 1 could not open the paths itself;
// - the rootfs's entries are opened below the rootfs directory create listed
//   (ContainerPlan::rootfs_dir) without following a final symlink, and their type must
//   still be what create saw: a directory swapped for a symlink between create's planning
//   and the clone is refused instead of leading the bind onto the host.
// The captured trees get the same checks and restrictions as PID 1's own captures
// (helper::capture_tree). Only a root caller captures: anyone else may not clone mounts
// in the host's mount namespace, and binds paths of their own bundle as before.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "helper/launch.hpp"
#include "oci/config.hpp"
#include "policy/sys.hpp"

namespace aj::oci {

// Sets binds[i].tree for every bind of `binds` (a copy of plan.binds, whose first
// `rootfs_entries` are the rootfs's entries: plan.rootfs_entries, or 0 once the rootfs is
// the root itself, rootfs_root.hpp) and returns the trees, which the caller keeps open
// until launch() returns. Throws aj::Error naming the source.
std::vector<sys::UniqueFd> capture_bundle(const ContainerPlan& plan, std::vector<helper::ExtraBind>& binds,
                                          std::size_t rootfs_entries);

// Makes the mount point `inside` (absolute, inside the container) in the rootfs open at
// `rootfs`, with its missing parents, as an empty directory or file, unless something is
// there already; every path resolved as if the rootfs were "/" (a link in it cannot lead
// out). What runc does for every mount whose point the rootfs lacks.
void make_in_rootfs(int rootfs, const std::string& inside, bool directory);

}  // namespace aj::oci
