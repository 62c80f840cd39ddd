#include "oci/rootfs_idmap.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "helper/idmap.hpp"
#include "helper/mountinfo.hpp"
#include "policy/error.hpp"
#include "policy/sys.hpp"

namespace aj::oci {

namespace {

// Whether the directory open at `fd` lets nobody but root search it.
bool closed_to_others(int fd, const std::string& path) {
    struct stat st {};
    sys::check(::fstat(fd, &st), "inspecting " + path);
    if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & S_IXOTH) != 0 ||
        ((st.st_mode & S_IXGRP) != 0 && st.st_gid != 0))
        return false;
    // An access ACL may let named users or groups in whatever the mode bits say (an
    // O_PATH descriptor takes no xattr call: its /proc/self/fd link does).
    const std::string link = "/proc/self/fd/" + std::to_string(fd);
    if (::getxattr(link.c_str(), "system.posix_acl_access", nullptr, 0) >= 0) return false;
    return errno == ENODATA || errno == ENOTSUP;
}

// The file system type of the mount `fd` lies on, from this process's mountinfo.
std::string fs_type_of(int fd) {
    struct statx sx {};
    if (::statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) != 0 || !(sx.stx_mask & STATX_MNT_ID)) return "(unknown)";
    for (const auto& m : helper::parse_mountinfo(sys::read_file("/proc/self/mountinfo", 16 << 20)))
        if (m.id == sx.stx_mnt_id) return m.fs_type;
    return "(unknown)";
}

}  // namespace

std::string rootfs_idmap_refusal(const std::string& rootfs, int rootfs_dir) {
    if (rootfs.empty() || rootfs[0] != '/') return "its path " + rootfs + " is not absolute";
    sys::UniqueFd dir = sys::open_fd("/", O_PATH | O_DIRECTORY | O_CLOEXEC, "opening /");
    bool guarded = closed_to_others(dir.get(), "/");
    std::string walked;
    for (std::size_t at = 1; at <= rootfs.size();) {
        std::size_t end = rootfs.find('/', at);
        if (end == std::string::npos) end = rootfs.size();
        const std::string name = rootfs.substr(at, end - at);
        at = end + 1;
        if (name.empty() || name == ".") continue;  // root.path "." (runtime-tools): the bundle itself
        if (name == "..") return "its path " + rootfs + " has a .. component";
        walked += "/" + name;
        sys::UniqueFd next(::openat(dir.get(), name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!next)
            return walked + " could not be opened as a directory without following a symbolic link (" +
                   errno_name(errno) + ")";
        guarded |= closed_to_others(next.get(), walked);
        dir = std::move(next);
    }
    struct stat walked_st {}, rootfs_st {};
    sys::check(::fstat(dir.get(), &walked_st), "inspecting " + rootfs);
    sys::check(::fstat(rootfs_dir, &rootfs_st), "inspecting the rootfs " + rootfs);
    if (walked_st.st_dev != rootfs_st.st_dev || walked_st.st_ino != rootfs_st.st_ino)
        return "its path " + rootfs + " no longer names the directory the config was read with";
    if (!guarded)
        return "every directory from / to " + rootfs +
               " lets other users search it (no root-owned directory on the way is closed to them), so a set-uid "
               "file the container made there would be host root's and theirs to run";
    return "";
}

std::string idmap_rootfs(int tree, int rootfs_dir, const helper::Identity& id) {
    const sys::UniqueFd ns = helper::make_idmap_userns(id, helper::uid_map_lines(id), helper::gid_map_lines(id));
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_IDMAP;
    attr.userns_fd = static_cast<std::uint64_t>(ns.get());
    if (::mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) == 0) return "";
    const int err = errno;
    if (err == EPERM)  // a root of a user namespace other than the initial one
        return "this runtime may not make idmapped mounts (EPERM)";
    if (err != EINVAL && err != ENOTSUP && err != EOPNOTSUPP)
        throw Error("idmapping the rootfs (mount_setattr MOUNT_ATTR_IDMAP): " + errno_text(err), kExitInternal, err);
    return "its file system (" + fs_type_of(rootfs_dir) + ") refused an idmapped mount (" + errno_name(err) + ")";
}

}  // namespace aj::oci
