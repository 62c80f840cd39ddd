#include "oci/bundle_capture.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "helper/mounts.hpp"
#include "policy/error.hpp"

namespace aj::oci {

namespace {

helper::BindAccess access_of(const helper::ExtraBind& b) {
    return b.mode == policy::PathMode::ReadWrite ? helper::BindAccess::ReadWrite : helper::BindAccess::ReadOnly;
}

// A rootfs entry, below the directory create listed; its final component never followed.
sys::UniqueFd capture_rootfs_entry(const ContainerPlan& plan, const helper::ExtraBind& b) {
    const std::string name = b.inside.substr(1);
    sys::UniqueFd tree = helper::capture_tree(plan.rootfs_dir.get(), name, AT_SYMLINK_NOFOLLOW, access_of(b), b.host);
    struct stat got {};
    sys::check(::fstat(tree.get(), &got), "inspecting the captured " + b.host);
    // create listed a directory or file here (a link would be recreate_symlink); a link
    // now was swapped in meanwhile and is never bound.
    if (S_ISLNK(got.st_mode))
        throw Error("capturing the rootfs entry " + b.host + ": it changed while the container was being created");
    return tree;
}

// Opens `rel` below the rootfs as if the rootfs were "/" (a link in it cannot lead out).
int open_below_rootfs(int rootfs, const std::string& rel, std::uint64_t flags) {
    open_how how{};
    how.flags = flags | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    return sys::retry_eintr(
        [&] { return static_cast<int>(::syscall(SYS_openat2, rootfs, rel.c_str(), &how, sizeof how)); });
}

// As runc does, a config bind's missing mount point inside a rootfs entry (podman's
// /etc/hostname, /run/.containerenv) is created in the rootfs, as an empty file or
// directory like its source: the launch library never creates anything in a bound tree.
void make_mount_point(const ContainerPlan& plan, const helper::ExtraBind& b) {
    const std::string rel = b.inside.substr(1);
    const auto slash = rel.find('/');
    if (slash == std::string::npos) return;  // a top-level name: the sandbox's own root holds it
    bool in_entry = false;
    for (std::size_t i = 0; i < plan.rootfs_entries; ++i)
        in_entry |= !plan.binds[i].recreate_symlink && plan.binds[i].inside == b.inside.substr(0, slash + 1);
    if (!in_entry) return;
    struct stat src {};
    if (::stat(b.host.c_str(), &src) != 0) return;  // the capture names the missing source
    make_in_rootfs(plan.rootfs_dir.get(), b.inside, S_ISDIR(src.st_mode));
}

}  // namespace

void make_in_rootfs(int rootfs, const std::string& inside, bool directory) {
    const std::string rel = inside.substr(1);
    if (rel.empty()) return;
    if (sys::UniqueFd there(open_below_rootfs(rootfs, rel, O_PATH)); there) return;
    std::string parent;
    for (std::size_t at = rel.find('/'); at != std::string::npos; at = rel.find('/', at + 1)) {
        parent = rel.substr(0, at);
        sys::UniqueFd dir(open_below_rootfs(rootfs, parent, O_PATH | O_DIRECTORY));
        if (dir) continue;
        const auto cut = parent.rfind('/');
        sys::UniqueFd up(cut == std::string::npos ? ::fcntl(rootfs, F_DUPFD_CLOEXEC, 0)
                                                  : open_below_rootfs(rootfs, parent.substr(0, cut), O_PATH | O_DIRECTORY));
        if (!up || (::mkdirat(up.get(), parent.substr(cut + 1).c_str(), 0755) != 0 && errno != EEXIST))
            throw_errno("creating the mount point " + inside + " in the rootfs");
    }
    const auto cut = rel.rfind('/');
    sys::UniqueFd up(cut == std::string::npos ? ::fcntl(rootfs, F_DUPFD_CLOEXEC, 0)
                                              : open_below_rootfs(rootfs, rel.substr(0, cut), O_PATH | O_DIRECTORY));
    if (!up) throw_errno("creating the mount point " + inside + " in the rootfs");
    const std::string name = cut == std::string::npos ? rel : rel.substr(cut + 1);
    if (directory) {
        if (::mkdirat(up.get(), name.c_str(), 0755) != 0 && errno != EEXIST)
            throw_errno("creating the mount point " + inside + " in the rootfs");
        return;
    }
    sys::UniqueFd file(::openat(up.get(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!file && errno != EEXIST) throw_errno("creating the mount point " + inside + " in the rootfs");
}

std::vector<sys::UniqueFd> capture_bundle(const ContainerPlan& plan, std::vector<helper::ExtraBind>& binds,
                                          std::size_t rootfs_entries) {
    std::vector<sys::UniqueFd> trees;
    for (std::size_t i = 0; i < binds.size(); ++i) {
        helper::ExtraBind& b = binds[i];
        if (b.recreate_symlink) continue;  // a link is recreated from its text, never bound
        if (i >= rootfs_entries) make_mount_point(plan, b);
        sys::UniqueFd tree = i < rootfs_entries
                                 ? capture_rootfs_entry(plan, b)
                                 // The config names its bind sources on the host: followed, as runc does.
                                 : helper::capture_tree(AT_FDCWD, b.host, 0, access_of(b), b.host, b.noexec, b.atime);
        b.tree = tree.get();
        trees.push_back(std::move(tree));
    }
    return trees;
}

}  // namespace aj::oci
