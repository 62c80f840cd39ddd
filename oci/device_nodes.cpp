#include "oci/device_nodes.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdio>
#include <sstream>
#include <tuple>

#include "helper/mounts.hpp"
#include "helper/userns.hpp"
#include "policy/error.hpp"

namespace aj::oci {

namespace {

std::string numbers(const DeviceNode& node) {
    return std::to_string(node.major) + ":" + std::to_string(node.minor);
}

std::string type_name(char type) {
    return type == 'b' ? "block device" : type == 'p' ? "fifo" : "char device";
}

mode_t file_type(char type) {
    return type == 'b' ? S_IFBLK : type == 'p' ? S_IFIFO : S_IFCHR;
}

std::string octal(mode_t mode) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode));
    return text;
}

}  // namespace

bool can_make_device_nodes() {
    return ::geteuid() == 0 && helper::in_initial_user_namespace();
}

std::vector<std::string> host_device_binds(const std::vector<DeviceNode>& nodes, std::vector<std::string>& warnings) {
    std::vector<std::string> paths;
    for (const DeviceNode& node : nodes) {
        const std::string field = "config.json: linux.devices " + node.path;
        if (node.type == 'p')
            throw Error(field + ": type p: a fifo cannot be made without host root (a user namespace cannot create "
                                "device nodes), and only char (c, u) and block (b) devices are bound");
        struct stat st {};
        if (::lstat(node.path.c_str(), &st) != 0)
            throw_errno(field + ": the host has no such node to bind (a user namespace cannot create device nodes)");
        const bool is_type = node.type == 'b' ? S_ISBLK(st.st_mode) : S_ISCHR(st.st_mode);
        if (!is_type || ::major(st.st_rdev) != node.major || ::minor(st.st_rdev) != node.minor)
            throw Error(field + ": the host's " + node.path + " is not the " + type_name(node.type) + " " +
                        numbers(node) + " the config names");
        const mode_t mode = st.st_mode & 0777;
        if (mode != node.mode || st.st_uid != node.uid || st.st_gid != node.gid)
            warnings.push_back("linux.devices " + node.path + ": bound with the host node's mode " + octal(mode) +
                               ", uid " + std::to_string(st.st_uid) + ", gid " + std::to_string(st.st_gid) +
                               " (a bound node cannot be changed; only host root makes the config's own)");
        paths.push_back(node.path);
    }
    return paths;
}

std::optional<std::uint32_t> host_id_of(const std::string& map, std::uint32_t id) {
    std::istringstream lines(map);
    std::uint64_t inside = 0, outside = 0, count = 0;
    while (lines >> inside >> outside >> count)
        if (id >= inside && id - inside < count) return static_cast<std::uint32_t>(outside + (id - inside));
    return std::nullopt;
}

MadeDevices::MadeDevices(const std::vector<DeviceNode>& nodes) : nodes_(nodes) {
    if (nodes_.empty()) return;
    // Nodes hold no data: a few inodes, no blocks. nosuid and noexec, never nodev: made in
    // the host's user namespace, the file system keeps device access, which the sandbox's
    // PID 1 could not give a tmpfs of its own.
    tmpfs_ = helper::new_filesystem(
        "tmpfs", {{"mode", "0700"}, {"size", "4k"}, {"nr_inodes", std::to_string(nodes_.size() + 1)}},
        MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, "making the container's device nodes (a private tmpfs)");
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        const DeviceNode& node = nodes_[i];
        const std::string name = std::to_string(i);
        const std::string what = "making the container's " + type_name(node.type) + " " + node.path;
        const dev_t dev = node.type == 'p' ? 0 : ::makedev(node.major, node.minor);
        sys::check(::mknodat(tmpfs_.get(), name.c_str(), file_type(node.type) | 0600, dev), what + " (mknodat)");
        // The config's mode exactly (mknod's is narrowed by the umask).
        sys::check(::fchmodat(tmpfs_.get(), name.c_str(), node.mode, 0), what + " (fchmodat)");
        sys::UniqueFd tree(::open_tree(tmpfs_.get(), name.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
        if (!tree) throw_errno(what + " (open_tree)");
        // Read-only: the container cannot change the node (its mode, owner, times); a
        // device or fifo still opens for writing on a read-only mount.
        mount_attr attr{};
        attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC;
        sys::check(::mount_setattr(tree.get(), "", AT_EMPTY_PATH, &attr, sizeof attr), what + " (mount_setattr)");
        trees_.push_back(std::move(tree));
    }
}

std::vector<helper::DeviceTree> MadeDevices::trees() const {
    std::vector<helper::DeviceTree> trees;
    for (std::size_t i = 0; i < nodes_.size(); ++i) trees.push_back({nodes_[i].path, trees_[i].get()});
    return trees;
}

std::vector<std::string> MadeDevices::set_owners(pid_t pid1) const {
    std::vector<std::string> warnings;
    if (nodes_.empty()) return warnings;
    const std::string proc = "/proc/" + std::to_string(pid1) + "/";
    const std::string uid_map = sys::read_file(proc + "uid_map", 1 << 16);
    const std::string gid_map = sys::read_file(proc + "gid_map", 1 << 16);
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        const DeviceNode& node = nodes_[i];
        const std::optional<std::uint32_t> uid = host_id_of(uid_map, node.uid);
        const std::optional<std::uint32_t> gid = host_id_of(gid_map, node.gid);
        // An id the namespace does not map stays host root's: the container sees the
        // overflow id (nobody) and gets only the mode's "other" bits, as for any file of
        // an unmapped owner.
        for (const auto& [id, mapped, what] : {std::tuple{node.uid, uid.has_value(), "uid"},
                                               std::tuple{node.gid, gid.has_value(), "gid"}})
            if (!mapped)
                warnings.push_back("linux.devices " + node.path + ": " + what + " " + std::to_string(id) +
                                   " is not mapped in the container's user namespace: the node shows as nobody's "
                                   "and opens only as its mode allows others");
        sys::check(::fchownat(tmpfs_.get(), std::to_string(i).c_str(), uid.value_or(static_cast<std::uint32_t>(-1)),
                              gid.value_or(static_cast<std::uint32_t>(-1)), AT_SYMLINK_NOFOLLOW),
                   "giving the container's " + node.path + " its owner (fchownat)");
    }
    return warnings;
}

}  // namespace aj::oci
