// The idmapped rootfs of a root caller's container (docs/oci.md, "The container's root").
// The rootfs becomes the container's root as one detached tree (rootfs_root.hpp), and is
// idmapped with the container's own id maps (helper::uid_map_lines): on-disk ids read as
// container ids, so host root's files are container root's, and what container root
// writes lands on disk as host root's, as under runc.
//
// The guard: a file the container writes there is host root's on the host, so a set-uid
// program or a file capability it plants must be out of every other host user's reach.
// The rootfs is idmapped only when a directory on its path from / denies search to
// everyone but root (owned by root, no search bit for others, none for a group other
// than root's, no ACL): Go's TempDir (0700), podman's and containerd's private storage.
// Anything else keeps host ids as they are, with a warning saying why.
#pragma once

#include <string>

#include "helper/userns.hpp"

namespace aj::oci {

// Why the rootfs at `rootfs` (absolute; open at `rootfs_dir`) must not be idmapped, or ""
// when it may. Checked on the directories themselves: each component opened (O_PATH,
// no symlink followed) below the previous one and fstat'ed, the last one checked to be
// `rootfs_dir`.
std::string rootfs_idmap_refusal(const std::string& rootfs, int rootfs_dir);

// Idmaps the detached tree `tree` (captured from `rootfs_dir`, recursively) with `id`'s
// maps. Returns "" once done, or why the file system refused (EINVAL, ENOTSUP: it names
// the file system type); throws aj::Error for any other failure.
std::string idmap_rootfs(int tree, int rootfs_dir, const helper::Identity& id);

}  // namespace aj::oci
