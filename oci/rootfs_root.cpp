#include "oci/rootfs_root.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cstddef>
#include <filesystem>
#include <iterator>

#include "helper/mount_plan.hpp"
#include "helper/mounts.hpp"
#include "oci/bundle_capture.hpp"
#include "oci/rootfs_idmap.hpp"

namespace aj::oci {

namespace {

// The sandbox's own mounts, there whether the config lists them or not
// (helper::ContainerLayout, step 2).
constexpr const char* kSandboxMounts[] = {"/proc", "/dev", "/tmp"};

// Every mount point the layout needs in the rootfs itself: the sandbox's own mounts and
// each listed mount that lies in no mount placed before it (those are made in that mount
// by PID 1, or found in the bound tree).
void make_mount_points(const ContainerPlan& plan, const ContainerFiles& files) {
    const int rootfs = plan.rootfs_dir.get();
    for (const char* path : kSandboxMounts) make_in_rootfs(rootfs, path, true);
    std::vector<std::string> placed(std::begin(kSandboxMounts), std::end(kSandboxMounts));
    for (const helper::ListedMount& m : files.layout.order) {
        const std::string& target = m.filesystem ? plan.filesystems[m.index].target : files.binds[m.index].inside;
        bool inside_earlier = false;
        for (const auto& p : placed) inside_earlier |= target != p && helper::at_or_below(target, p);
        placed.push_back(target);
        if (inside_earlier) continue;
        bool directory = true;
        if (!m.filesystem) {
            struct stat src {};
            if (::stat(files.binds[m.index].host.c_str(), &src) != 0) continue;  // the capture names it
            directory = S_ISDIR(src.st_mode);
        }
        make_in_rootfs(rootfs, target, directory);
    }
}

// Why a hook the host runs as the caller is a program of the rootfs, or "": idmapped, the
// container's root could rewrite it (a root-owned file of the rootfs is its own), and the
// host would then run the container's code with the caller's privileges. Such a rootfs
// keeps its host owners. Compared on resolved paths: a hook reached through a symlink
// into the rootfs counts too.
std::string hook_in_rootfs(const ContainerPlan& plan) {
    std::error_code ec;
    const std::filesystem::path root = std::filesystem::weakly_canonical(plan.rootfs, ec);
    if (ec) return "resolving " + plan.rootfs + ": " + ec.message();
    for (const auto* list : {&plan.hooks.prestart, &plan.hooks.create_runtime, &plan.hooks.poststart, &plan.hooks.poststop})
        for (const Hook& h : *list) {
            const std::filesystem::path program = std::filesystem::weakly_canonical(h.path, ec);
            if (ec) return "resolving hook " + h.path + ": " + ec.message();
            const std::string p = program.string(), r = root.string();
            if (p == r || p.starts_with(r + "/"))
                return "hook " + h.path + " is a program of the rootfs, which container root could rewrite";
        }
    return "";
}

}  // namespace

ContainerFiles container_files(const ContainerPlan& plan, const helper::Identity* root_caller) {
    ContainerFiles files;
    if (!root_caller) {
        files.binds = plan.binds;
        files.layout.leading_binds = plan.rootfs_entries;
        files.layout.order = plan.mount_order;
        return files;
    }
    // The rootfs's entries give way to the rootfs itself.
    files.binds.assign(plan.binds.begin() + static_cast<std::ptrdiff_t>(plan.rootfs_entries), plan.binds.end());
    for (helper::ListedMount m : plan.mount_order) {
        if (!m.filesystem) m.index -= plan.rootfs_entries;
        files.layout.order.push_back(m);
    }
    make_mount_points(plan, files);
    files.trees = capture_bundle(plan, files.binds, 0);

    const helper::BindAccess access = plan.root_readonly ? helper::BindAccess::ReadOnly : helper::BindAccess::ReadWrite;
    sys::UniqueFd root = helper::capture_tree(plan.rootfs_dir.get(), "", AT_EMPTY_PATH, access, plan.rootfs);
    std::string why_not = rootfs_idmap_refusal(plan.rootfs, plan.rootfs_dir.get());
    if (why_not.empty()) why_not = hook_in_rootfs(plan);
    if (why_not.empty()) why_not = idmap_rootfs(root.get(), plan.rootfs_dir.get(), *root_caller);
    if (!why_not.empty())
        files.warnings.push_back("root.path " + plan.rootfs + ": not idmapped: " + why_not +
                                 "; its files keep their host owners (host root's show as nobody inside, and the "
                                 "container writes there only what host uid " +
                                 std::to_string(root_caller->outside_uid) + " may)");
    files.layout.root_tree = root.get();
    files.layout.root_path = plan.rootfs;
    files.layout.root_read_only = plan.root_readonly;
    files.trees.push_back(std::move(root));
    return files;
}

}  // namespace aj::oci
