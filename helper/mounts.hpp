// Executes a MountPlan inside the new mount namespace and makes its tmpfs the root.
#pragma once

#include <cstddef>
#include <map>
#include <string>

#include "helper/mount_plan.hpp"
#include "policy/sys.hpp"

namespace aj::helper {

// Child side, in the new user+mount namespaces, with namespace capabilities. Makes every
// existing mount private, captures each bind source as a detached clone while the host
// tree is still in view, assembles the plan on a tmpfs (or on the caller's captured root
// tree: ContainerLayout::root_tree), pivot_roots into it and detaches the old root. On return the cwd is "/" of the sandbox.
// `captured` maps a Bind op's index to a tree the runner captured already (an idmapped
// bind, idmap.hpp): PID 1 attaches it as it is.
// Returns an O_PATH descriptor (close-on-exec) on the root of the scratch tmpfs (/tmp and
// /dev/shm), invalid when the plan has none: PID 1 measures it after the command
// (whether the max_tmpfs_mb budget ran out), wherever the sandbox bound over those paths.
sys::UniqueFd build_root(const MountPlan& plan, const std::map<std::size_t, int>& captured = {});

// The plan's Mask and ReadOnlyPath ops, on the root build_root made: PID 1 calls it once
// it has written its own settings below /proc/sys (the user namespace quotas), which a
// read-only /proc/sys would refuse.
void restrict_paths(const MountPlan& plan);

// Captures host path op.source as a detached recursive clone with the access op.access
// asks (nosuid, nodev, read-only; noexec with op.noexec), after refusing a tree that would
// undo the sandbox.
sys::UniqueFd capture_bind(const MountOp& op);

// The same for `path` looked up from `dirfd` (openat's rules; "" with AT_EMPTY_PATH in
// `lookup` clones dirfd itself; AT_SYMLINK_NOFOLLOW refuses a final symlink). A caller
// that resolved a directory once captures below it without a path being looked up again
// (aurora-runc's rootfs entries: ExtraBind::tree). `what` names the source in errors.
sys::UniqueFd capture_tree(int dirfd, const std::string& path, unsigned lookup, BindAccess access,
                           const std::string& what, bool noexec = false, const AtimeAttrs& atime = {});

// A new instance of file system `type` (tmpfs, proc, overlay...) as a detached mount
// (fsopen, fsconfig, fsmount), configured by key=value (an empty value: a flag option),
// with the mount attributes `attrs`. `what` names it in errors.
sys::UniqueFd new_filesystem(const char* type, const std::map<std::string, std::string>& options, unsigned attrs,
                             const std::string& what);

// fsmount's or mount_setattr's attribute bits for `atime` (the atime mode only when it
// changes: MOUNT_ATTR_RELATIME is 0).
std::uint64_t atime_attr_bits(const AtimeAttrs& atime);

}  // namespace aj::helper
