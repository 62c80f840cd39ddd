// Idmapped binds: a root caller's sandbox runs as a host uid nobody can predict
// (id_pool.hpp), yet a --workdir or an "rw" path owned by some user must stay writable
// without being chowned to it. The runner clones such a tree (open_tree) and idmaps it
// (mount_setattr MOUNT_ATTR_IDMAP) with a user namespace mapping the directory's owner
// to the sandbox's host uid (its group to the sandbox's gid): inside, the sandbox is the
// owner; on the host, what it writes belongs to the directory's owner.
//
// Never mapped: a tree owned by root (uid 0; its group too when it is gid 0) or by the
// sandbox itself. A sandbox therefore never creates a file owned by root through an
// idmapped bind. A file system without idmapped mounts (the kernel answers EINVAL) gets a
// plain bind and a warning on stderr naming the uid that would need access.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "helper/mount_plan.hpp"
#include "policy/sys.hpp"
#include "helper/userns.hpp"

namespace aj::helper {

struct IdmappedBinds {
    std::map<std::size_t, sys::UniqueFd> trees;  // plan op index -> detached, restricted tree
    std::vector<std::string> described;           // "SRC: uid U->X, gid G->Y" for the report
};

// Runner side, before the clone, root callers only (anyone else gets nothing: their
// sandbox is the caller). PID 1 attaches these trees instead of capturing the paths.
IdmappedBinds prepare_idmapped_binds(const MountPlan& plan, const Identity& id);

// A user namespace whose only mappings are `uid_map` and `gid_map` (uid_map(5) lines),
// created as the sandbox's host identity and held only by the returned fd.
sys::UniqueFd make_idmap_userns(const Identity& creator, const std::string& uid_map, const std::string& gid_map);

}  // namespace aj::helper
