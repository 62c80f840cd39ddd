// The sandbox's filesystem as data: Policy + request -> an ordered list of plain mount
// operations. Building the plan only reads the host (lstat/readlink); it never mounts, so
// it can be printed, reviewed and unit-tested without privileges. mounts.cpp executes it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "helper/launch.hpp"
#include "policy/policy.hpp"

namespace aj::helper {

enum class MountKind {
    Tmpfs,           // a fresh tmpfs at target (target "/" is the new root itself)
    // Directory `source` of the sandbox's one scratch tmpfs, bound at target. Every
    // ScratchDir op shares that file system, so /tmp and /dev/shm draw on one size_mb
    // budget (max_tmpfs_mb) rather than one each.
    ScratchDir,
    Proc,            // a fresh procfs for the new pid namespace
    Bind,            // host `source` (recursively) at target
    Symlink,         // a symlink at target whose text is `source`
    RemountReadOnly, // make the mount at target read-only (that mount only)
    Overlay,         // overlayfs at target: lower `source` (ro), changes in `upper`, scratch `work`
    Filesystem,      // a new `fs_type` instance at target, labelled `source` (FilesystemMount)
    Sysctl,          // writes `content` into target, a /proc/sys file (LaunchRequest::sysctls)
    // The last two act after build_root, on the finished root (restrict_paths, mounts.hpp):
    Mask,            // an empty read-only mount over target, if it exists (LaunchRequest::masked_paths)
    ReadOnlyPath,    // target bound over itself read-only, if it exists (LaunchRequest::readonly_paths)
    File             // a regular file at target in the new root (read-only once the root is):
                     // holding `content`, or, with `source` set, a copy PID 1 makes of that
                     // small world-readable host file (the system view's own and copied ones)
};

enum class BindAccess {
    ReadOnly,   // ro, nosuid, nodev (recursively, sub-mounts included)
    ReadWrite,  // nosuid, nodev
    Device      // a device node: nosuid, noexec; it must keep working, so no nodev
};

// The largest host file the system view copies into the new root (MountKind::File with a
// `source`) rather than binding.
constexpr std::size_t kMaxCopiedHostFileBytes = 4 * 1024;

struct MountOp {
    MountKind kind = MountKind::Bind;
    std::string target;  // absolute path inside the sandbox
    std::string source;  // Bind: absolute host path; Symlink: the link text; Overlay: lower
    std::string upper;   // Overlay: absolute host path receiving the writes
    std::string work;    // Overlay: absolute host path, overlayfs's work directory
    std::string content; // File: its bytes (when `source` is empty)
    BindAccess access = BindAccess::ReadOnly;
    std::uint64_t size_mb = 0;  // Tmpfs, ScratchDir (the shared budget): 0 means the kernel default
    unsigned mode = 0755;       // Tmpfs: mode of its root directory; ScratchDir: of the directory; File: its mode
    std::string fs_type;                  // Filesystem: proc, tmpfs, devpts, mqueue, sysfs
    std::vector<std::string> fs_options;  // Filesystem: "key=value" or "flag", given to fsconfig
    bool read_only = false;               // Filesystem: mounted read-only
    bool noexec = false;                  // Filesystem, Bind: mounted noexec
    AtimeAttrs atime = {};                // Filesystem, Bind: an OCI mount's access-time options
    int tree = -1;              // Bind: the caller's detached tree (ExtraBind::tree); `source` then only names it
    bool operator==(const MountOp&) const = default;
};

struct MountPlan {
    std::vector<MountOp> ops;
    // Every bind is made (cloned) when its turn comes, not when its source was opened: a
    // container layout's mounts show in /proc/self/mountinfo, which lists mounts in the
    // order they were made, in the config's order (runc's; runtime-tools checks it).
    bool made_in_order = false;
};

// Throws aj::Error (exit 125) naming the path when an allowed path, extra bind or the
// work directory does not exist on the host, or a path is not absolute.
MountPlan build_mount_plan(const policy::Policy& policy, const std::vector<ExtraBind>& extra,
                           const std::optional<std::string>& workdir,
                           const std::vector<OverlayMount>& overlays = {},
                           const std::vector<FilesystemMount>& filesystems = {},
                           const std::vector<std::pair<std::string, std::string>>& sysctls = {},
                           const std::vector<std::string>& masked_paths = {},
                           const std::vector<std::string>& readonly_paths = {},
                           const std::vector<std::string>& devices = {},
                           const std::vector<DeviceTree>& device_trees = {},
                           const std::optional<ContainerLayout>& container = std::nullopt);

// Whether `path` is `dir` or lies below it (both absolute and normal).
bool at_or_below(const std::string& path, const std::string& dir);

// One line per operation, e.g. "bind ro /usr <- /usr".
std::string describe(const MountOp& op);
std::string describe(const MountPlan& plan);

}  // namespace aj::helper
