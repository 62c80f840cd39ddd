#include "oci/bundle_capture.hpp"

#include <fcntl.h>
#include <sys/stat.h>

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

}  // namespace

std::vector<sys::UniqueFd> capture_bundle(const ContainerPlan& plan, std::vector<helper::ExtraBind>& binds) {
    std::vector<sys::UniqueFd> trees;
    for (std::size_t i = 0; i < binds.size(); ++i) {
        helper::ExtraBind& b = binds[i];
        if (b.recreate_symlink) continue;  // a link is recreated from its text, never bound
        sys::UniqueFd tree = i < plan.rootfs_entries
                                 ? capture_rootfs_entry(plan, b)
                                 // The config names its bind sources on the host: followed, as runc does.
                                 : helper::capture_tree(AT_FDCWD, b.host, 0, access_of(b), b.host, b.noexec);
        b.tree = tree.get();
        trees.push_back(std::move(tree));
    }
    return trees;
}

}  // namespace aj::oci
