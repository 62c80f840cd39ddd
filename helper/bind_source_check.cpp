#include "helper/bind_source_check.hpp"

#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "policy/sys.hpp"
#include "policy/error.hpp"

namespace aj::helper {
namespace {

// Whether `st` is the file at `path` (same device and inode). False when `path` cannot be
// stat'ed: then nothing there can be the tree either.
bool is_file_at(const struct stat& st, const char* path) {
    struct stat other {};
    return ::stat(path, &other) == 0 && other.st_dev == st.st_dev && other.st_ino == st.st_ino;
}

}  // namespace

std::string undoing_bind_reason(int tree_fd, BindAccess access) {
    struct statfs fs {};
    sys::check(::fstatfs(tree_fd, &fs), "inspecting a bind source (fstatfs)");
    if (fs.f_type == PROC_SUPER_MAGIC) return "it is a procfs: it would show and reach the host's processes";
    if (fs.f_type == CGROUP_SUPER_MAGIC || fs.f_type == CGROUP2_SUPER_MAGIC)
        return "it is a cgroup hierarchy: a writable cgroup.procs would let the sandbox leave its limits";
    struct stat st {};
    sys::check(::fstat(tree_fd, &st), "inspecting a bind source (fstat)");
    if (is_file_at(st, "/")) return "it is the host's root directory, /proc and cgroups included";
    if (is_file_at(st, "/sys/fs/cgroup")) return "it is the host's cgroup hierarchy";
    if (access == BindAccess::ReadWrite && (is_file_at(st, "/sys") || is_file_at(st, "/sys/fs")))
        return "it is /sys read-write, which carries the host's cgroup hierarchy";
    return {};
}

}  // namespace aj::helper
