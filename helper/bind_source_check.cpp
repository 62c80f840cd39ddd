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

std::string undoing_submount_type(const std::string& fs_type) {
    static const char* const kControl[] = {"sysfs",    "devtmpfs", "devpts",   "nsfs",      "bpf",
                                           "debugfs",  "tracefs",  "securityfs", "configfs", "efivarfs",
                                           "pstore",   "fusectl",  "binfmt_misc", "mqueue", "selinuxfs",
                                           "rpc_pipefs", "autofs", "hugetlbfs"};
    if (fs_type == "proc") return "a procfs shows and reaches the host's processes";
    if (fs_type == "cgroup" || fs_type == "cgroup2") return "a cgroup hierarchy shows the host's and, writable, lets the sandbox leave its limits";
    for (const char* t : kControl)
        if (fs_type == t) return "a " + fs_type + " shows or controls host kernel state";
    return {};
}

std::string undoing_submount_reason(int fd, const std::string& fs_type) {
    if (std::string why = undoing_submount_type(fs_type); !why.empty()) return why;
    // The host's root or cgroup directory bound somewhere below a granted tree; the check
    // of a tree's top also knows procfs and cgroup by their magic number.
    return undoing_bind_reason(fd, BindAccess::ReadOnly);
}

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
