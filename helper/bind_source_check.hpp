// The last check of a bind source, on the tree PID 1 has just opened (open_tree) rather
// than on its name. The runner refuses "/", /proc and the cgroup hierarchy by name and by
// realpath() before the clone (helper/mount_plan.cpp); a directory swapped on the way
// between that check and PID 1's open_tree would slip past both. What is checked here is
// what would be mounted.
#pragma once

#include <string>

#include "helper/mount_plan.hpp"

namespace aj::helper {

// Why mounting the tree open at `tree_fd` would undo the sandbox, or "" when it may be
// bound. Compares against the host's "/", /sys, /sys/fs and /sys/fs/cgroup as this
// process sees them (PID 1 before pivot_root: the host's tree, copied).
std::string undoing_bind_reason(int tree_fd, BindAccess access);

// Granted trees are bound with their submounts (a separate /usr/local, /home/NAME...);
// some of those would undo the sandbox or show the host as much as a grant of their own:
// a procfs, the cgroup hierarchy, the host's root, or one of the kernel's control file
// systems (sysfs, devtmpfs, devpts, nsfs, bpf, debugfs, tracefs, securityfs, configfs,
// efivarfs, pstore, fusectl, binfmt_misc, mqueue, selinuxfs...). Why the submount of type
// `fs_type` whose root is open at `fd` must be hidden inside the sandbox, or "".
std::string undoing_submount_reason(int fd, const std::string& fs_type);
// The type part of it, pure (unit-tested): "" for an ordinary file system.
std::string undoing_submount_type(const std::string& fs_type);

}  // namespace aj::helper
