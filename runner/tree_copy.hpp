// Copying an untrusted directory tree and removing a tree, fd-relative and without ever
// following a symlink, so a tree changed while we walk it cannot redirect us elsewhere.
#pragma once

#include <cstdint>
#include <string>

namespace aj::runner {

struct CopyLimits {
    std::uint64_t max_bytes = 256ull << 20;  // total file contents
    std::uint64_t max_entries = 20000;       // files + dirs + symlinks
    unsigned max_depth = 64;
};

struct CopyStats {
    std::uint64_t bytes = 0;
    std::uint64_t entries = 0;
};

// Copies the contents of directory `src_dir_fd` into the empty directory `dst_dir_fd`.
// Regular files: contents only (never linked), and a hard link (more than one link) only
// when the package directory's owner owns the file. Files and directories keep the
// source's permission bits, never wider: no setuid/setgid/sticky, no group or world
// write, and a group that is not the source's gets at most the world's bits. Symlinks: copied as links when the
// target is relative and, resolved lexically from the link's directory, stays in the tree;
// absolute or escaping targets, fifos, sockets and devices are refused with an aj::Error
// naming the relative path. Call verify_symlinks_beneath() on the copy afterwards.
CopyStats copy_tree(int src_dir_fd, int dst_dir_fd, const CopyLimits& limits);

// Resolves every symlink of the (already copied, now private) tree beneath `root_fd`
// with the kernel's RESOLVE_BENEATH, catching chains such as "a -> .." + "b -> a/..".
void verify_symlinks_beneath(int root_fd);

// Removes `name` (a file, symlink or whole directory tree) inside `parent_fd` without
// following symlinks. Missing is fine.
void remove_tree(int parent_fd, const std::string& name);

}  // namespace aj::runner
