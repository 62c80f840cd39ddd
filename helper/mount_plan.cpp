#include "helper/mount_plan.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <tuple>

#include "policy/error.hpp"
#include "helper/system_view.hpp"
#include "policy/host_binds.hpp"
#include "policy/sys.hpp"

namespace aj::helper {

namespace {

std::size_t depth(const std::string& path) {
    return static_cast<std::size_t>(std::count(path.begin(), path.end(), '/'));
}

void require_absolute(const std::string& path, const std::string& what) {
    if (path.empty() || path[0] != '/' || path.find("/../") != std::string::npos ||
        path.ends_with("/..") || path.find('\0') != std::string::npos)
        throw Error(what + " " + path + ": not an absolute normal path");
}

// The host's view of `path` without following a final symlink.
struct stat lstat_or_throw(const std::string& path, const std::string& what) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) throw_errno(what + " " + path + " on the host");
    return st;
}

// The policy refuses "/", the host's /proc and its cgroup hierarchy by name; a symlink on
// the way (/srv/p -> /proc, then "/srv/p/1") must not bring them back. Checks the host
// source as the kernel will resolve it.
void refuse_undoing_bind(const std::string& path, policy::PathMode mode, const std::string& what) {
    char resolved[PATH_MAX];
    if (!::realpath(path.c_str(), resolved)) throw_errno(what + " " + path + ": resolving it on the host");
    if (std::string why = policy::refused_host_bind(policy::PathRule{resolved, mode}); !why.empty())
        throw Error(what + " " + path + (path == resolved ? "" : " (resolves to " + std::string(resolved) + ")") +
                    ": " + why);
}

std::string read_link(const std::string& path) {
    std::string buf(4096, '\0');
    ssize_t n = ::readlink(path.c_str(), buf.data(), buf.size());
    if (n < 0) throw_errno("reading symlink " + path);
    buf.resize(static_cast<std::size_t>(n));
    return buf;
}

MountOp tmpfs(std::string target, unsigned mode, std::uint64_t size_mb = 0) {
    MountOp op;
    op.kind = MountKind::Tmpfs;
    op.target = std::move(target);
    op.mode = mode;
    op.size_mb = size_mb;
    return op;
}

MountOp scratch_dir(std::string name, std::string target, unsigned mode, std::uint64_t budget_mb) {
    MountOp op = tmpfs(std::move(target), mode, budget_mb);
    op.kind = MountKind::ScratchDir;
    op.source = std::move(name);
    return op;
}

MountOp bind(std::string source, std::string target, BindAccess access) {
    MountOp op;
    op.kind = MountKind::Bind;
    op.source = std::move(source);
    op.target = std::move(target);
    op.access = access;
    return op;
}

MountOp symlink(std::string text, std::string target) {
    MountOp op;
    op.kind = MountKind::Symlink;
    op.source = std::move(text);
    op.target = std::move(target);
    return op;
}

MountOp remount_ro(std::string target) {
    MountOp op;
    op.kind = MountKind::RemountReadOnly;
    op.target = std::move(target);
    return op;
}

MountOp file(std::string target, std::string content) {
    MountOp op;
    op.kind = MountKind::File;
    op.target = std::move(target);
    op.content = std::move(content);
    op.mode = 0644;
    return op;
}

// A host file PID 1 copies into the new root (MountKind::File with `source`), while the
// host's tree is still in its view: no bytes pass through the runner's heap, whose pages
// the clone would share copy-on-write (each fault costs tens of microseconds on a
// virtualised host). Only a small regular file every host user may read is copied
// (PID 1 checks that again on the file it opens): each copied file saves a mount, but
// tmpfs pages cost memory; larger files are bound. A file only some may read is bound
// too, so the sandbox's uid gets exactly the access it has on the host.
bool copyable_host_file(const struct stat& st) {
    return S_ISREG(st.st_mode) && (st.st_mode & S_IROTH) && static_cast<std::size_t>(st.st_size) <= kMaxCopiedHostFileBytes;
}

MountOp host_file_copy(std::string path) {
    MountOp op;
    op.kind = MountKind::File;
    op.target = path;
    op.source = std::move(path);
    op.mode = 0644;
    return op;
}

// One of the caller's extra binds as an operation: a bind of its captured tree or host
// path, or the symlink it names.
MountOp extra_bind_op(const ExtraBind& b) {
    require_absolute(b.host, "extra bind");
    require_absolute(b.inside, "extra bind target");
    const BindAccess access = b.mode == policy::PathMode::ReadWrite ? BindAccess::ReadWrite : BindAccess::ReadOnly;
    if (b.tree >= 0) {
        // Captured and checked by the caller (capture_tree): its path is not looked up.
        MountOp op = bind(b.host, b.inside, access);
        op.tree = b.tree;
        op.noexec = b.noexec;
        op.atime = b.atime;  // applied by the caller's capture_tree already
        return op;
    }
    struct stat st = lstat_or_throw(b.host, "extra bind");
    if (b.recreate_symlink) {
        // The caller saw a link here: anything else now is a swap, never bound.
        if (!S_ISLNK(st.st_mode)) throw Error("extra bind " + b.host + ": no longer a symbolic link");
        return symlink(read_link(b.host), b.inside);
    }
    refuse_undoing_bind(b.host, b.mode, "extra bind");
    MountOp op = bind(b.host, b.inside, access);
    op.noexec = b.noexec;
    op.atime = b.atime;
    return op;
}

// The system view's operations (helper/system_view.hpp) that nothing the policy or the
// request grants already covers: a path the caller binds (/etc, /etc/ssl, /etc/hosts)
// shows the caller's choice, never the view's file on top of it or inside it.
void add_system_view(const policy::Policy& policy, const std::optional<std::string>& workdir,
                     std::vector<MountOp>& binds) {
    if (!policy.system_view) return;
    auto covered = [&](const std::string& path) {
        return std::any_of(binds.begin(), binds.end(), [&](const MountOp& b) { return at_or_below(path, b.target); });
    };
    std::vector<MountOp> view;
    // A grant of /etc itself covers every host entry: the scan of /etc (a directory
    // listing and an lstat per entry on each run) is skipped.
    const std::vector<HostViewEntry> host_entries =
        covered("/etc") ? std::vector<HostViewEntry>{} : system_view_host_stats(policy.network);
    view.reserve(host_entries.size() + 4);
    for (const auto& [path, st] : host_entries) {
        if (covered(path)) continue;
        // As for allowed paths: a link is recreated (/etc/localtime resolves inside to
        // what the policy shows of /usr), a small world-readable file copied, anything
        // else bound read-only. The entry's lstat is the listing's: a link swapped in
        // since is not followed by the copy (O_NOFOLLOW) and a bind checks what it opens.
        if (S_ISLNK(st.st_mode)) {
            view.push_back(symlink(read_link(path), path));
        } else if (copyable_host_file(st)) {
            view.push_back(host_file_copy(path));
        } else {
            view.push_back(bind(path, path, BindAccess::ReadOnly));
        }
    }
    auto home = policy.env.set.find("HOME");
    for (auto& f : system_view_files(policy, home != policy.env.set.end() ? home->second : workdir.value_or("/")))
        if (!covered(f.path)) view.push_back(file(std::move(f.path), std::move(f.content)));
    binds.insert(binds.end(), std::make_move_iterator(view.begin()), std::make_move_iterator(view.end()));
}

bool places_mount(MountKind kind) {
    return kind == MountKind::Bind || kind == MountKind::Tmpfs || kind == MountKind::ScratchDir ||
           kind == MountKind::Proc || kind == MountKind::Filesystem || kind == MountKind::Overlay;
}

// The deepest bind before `end` whose target is a strict ancestor of `target`, or null.
// `last_mount`: the last mount of any kind before `end` at the deepest such target
// instead (a listed order, where a file system may cover a bind), null unless a bind.
const MountOp* enclosing_bind(const std::vector<MountOp>& ops, std::size_t end, const std::string& target,
                              bool last_mount = false) {
    const MountOp* found = nullptr;
    for (std::size_t i = 0; i < end; ++i) {
        const MountOp& b = ops[i];
        if (!(last_mount ? places_mount(b.kind) : b.kind == MountKind::Bind) || target.size() <= b.target.size() ||
            target.compare(0, b.target.size(), b.target) != 0 || target[b.target.size()] != '/')
            continue;
        if (!found || b.target.size() >= found->target.size()) found = &b;
    }
    return found && found->kind == MountKind::Bind ? found : nullptr;
}

// A grant below another bind (a symlink, directory or file inside a granted tree) goes
// where the bound tree already has it: its mount point is the host's own file, so nothing
// is created in a host directory (a read-write bind would write it through to the host, a
// read-only one refuses with EROFS). A symlink the bound tree already shows, with the same
// text, needs no operation at all. Anything else cannot be built and is refused here, by
// name, before any namespace exists. `ops` is sorted parents first.
// `from`, `listed`: ops[0, from) are kept as they are, and each later op lies in the
// last mount placed at its deepest enclosing path (enclosing_bind's last_mount), for a
// listed order rather than parents first.
std::vector<MountOp> settle_nested(const std::vector<MountOp>& ops, std::size_t from = 0, bool listed = false) {
    std::vector<MountOp> kept(ops.begin(), ops.begin() + static_cast<std::ptrdiff_t>(from));
    for (std::size_t i = from; i < ops.size(); ++i) {
        const MountOp& op = ops[i];
        const MountOp* outer = enclosing_bind(ops, i, op.target, listed);
        if (!outer) {
            kept.push_back(op);
            continue;
        }
        const std::string host = outer->source + op.target.substr(outer->target.size());
        const std::string where = op.target + " lies inside the granted " + outer->target + " (host " + host + ")";
        struct stat st {};
        if (::lstat(host.c_str(), &st) != 0) {
            const int err = errno;
            throw Error(where + ", where it does not exist; a grant inside a granted tree must name something "
                        "that tree holds (" + errno_name(err) + ")");
        }
        if (op.kind == MountKind::Symlink) {
            if (S_ISLNK(st.st_mode) && read_link(host) == op.source) continue;  // the bind shows it
            throw Error(where + ", which holds something else than the symbolic link -> " + op.source);
        }
        struct stat src {};
        if (op.tree >= 0 ? ::fstat(op.tree, &src) != 0 : ::stat(op.source.c_str(), &src) != 0)
            throw_errno("bind source " + op.source + " on the host");
        if (S_ISLNK(st.st_mode) || S_ISDIR(st.st_mode) != S_ISDIR(src.st_mode))
            throw Error(where + ", which is " + (S_ISLNK(st.st_mode) ? "a symbolic link" : S_ISDIR(st.st_mode) ? "a directory" : "not a directory") +
                        ": " + op.source + " cannot be mounted there");
        kept.push_back(op);
    }
    return kept;
}

MountOp proc_op() {
    MountOp proc;
    proc.kind = MountKind::Proc;
    proc.target = "/proc";
    return proc;
}

// What the caller adds to /dev: host nodes bound by path (LaunchRequest::devices) and
// nodes it made itself, as detached trees (LaunchRequest::device_trees).
struct DevExtras {
    const std::vector<std::string>& host_nodes;
    const std::vector<DeviceTree>& made;
};

constexpr std::array<const char*, 6> kOwnDevices = {"null", "zero", "full", "random", "urandom", "tty"};

// A caller's device path: below /dev, and never one of the sandbox's own nodes (a made
// node there would replace /dev/null, say, with whatever its numbers name).
void require_extra_device_path(const std::string& dev) {
    require_absolute(dev, "device");
    if (!at_or_below(dev, "/dev") || dev == "/dev") throw Error("device " + dev + ": not below /dev");
    for (const char* own : kOwnDevices)
        if (dev == std::string("/dev/") + own) throw Error("device " + dev + ": the sandbox's own node already");
}

// What /dev holds, whoever mounted its tmpfs: the harmless device nodes and the fd links,
// What /dev holds, whoever mounted its tmpfs: the harmless device nodes and the fd links,
// then the caller's devices.
void add_dev_contents(std::vector<MountOp>& ops, const DevExtras& extras) {
    for (const char* dev : kOwnDevices)
        ops.push_back(bind(std::string("/dev/") + dev, std::string("/dev/") + dev, BindAccess::Device));
    for (const std::string& dev : extras.host_nodes) {
        require_extra_device_path(dev);
        struct stat st = lstat_or_throw(dev, "device");
        if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) throw Error("device " + dev + ": not a device node");
        ops.push_back(bind(dev, dev, BindAccess::Device));
    }
    for (const DeviceTree& dev : extras.made) {
        require_extra_device_path(dev.path);
        if (dev.tree < 0) throw Error("device " + dev.path + ": no node given");
        MountOp op = bind(dev.path, dev.path, BindAccess::Device);
        op.tree = dev.tree;
        ops.push_back(std::move(op));
    }
    ops.push_back(symlink("/proc/self/fd", "/dev/fd"));
    ops.push_back(symlink("/proc/self/fd/0", "/dev/stdin"));
    ops.push_back(symlink("/proc/self/fd/1", "/dev/stdout"));
    ops.push_back(symlink("/proc/self/fd/2", "/dev/stderr"));
}

// The fixed skeleton every sandbox gets. It comes before the policy's binds so that a
// policy path below /tmp (or an explicit /dev, /tmp) is mounted on top of it, not hidden.
void add_skeleton(const policy::Policy& policy, const DevExtras& devices, std::vector<MountOp>& ops) {
    ops.push_back(tmpfs("/", 0755));
    ops.push_back(proc_op());

    ops.push_back(tmpfs("/dev", 0755));
    add_dev_contents(ops, devices);
    // One budget for every sandbox-private memory file system: with a tmpfs each, a
    // 64 MiB policy gave 128 MiB of host memory.
    std::uint64_t tmp_mb = policy.limits.tmpfs_mb.value_or(0);
    ops.push_back(scratch_dir("shm", "/dev/shm", 01777, tmp_mb));
    ops.push_back(remount_ro("/dev"));

    ops.push_back(scratch_dir("tmp", "/tmp", 01777, tmp_mb));
}

// A tmpfs size option ("65536k", "64m", "1g", bytes) in MiB, rounded up; nullopt for what
// is not a plain size (a percentage of memory).
std::optional<std::uint64_t> size_mb(const std::string& value) {
    std::size_t used = 0;
    std::uint64_t n = 0;
    try {
        n = std::stoull(value, &used);
    } catch (const std::exception&) {
        return std::nullopt;
    }
    const std::string unit = value.substr(used);
    std::uint64_t shift = 0;
    if (unit == "k" || unit == "K") shift = 10;
    else if (unit == "m" || unit == "M") shift = 20;
    else if (unit == "g" || unit == "G") shift = 30;
    else if (!unit.empty()) return std::nullopt;
    if (shift < 20) return ((n << shift) + (1ULL << 20) - 1) >> 20;
    return n << (shift - 20);
}

MountOp filesystem_op(const policy::Policy& policy, const FilesystemMount& f) {
    require_absolute(f.target, f.type + " mount target");
    if (!std::set<std::string>{"proc", "tmpfs", "devpts", "mqueue", "sysfs"}.contains(f.type))
        throw Error(f.type + " mount at " + f.target + ": not a file system type the sandbox mounts");
    MountOp op;
    op.kind = MountKind::Filesystem;
    op.fs_type = f.type;
    op.source = f.source.empty() ? f.type : f.source;
    op.target = f.target;
    op.read_only = f.read_only || f.type == "sysfs";  // sysfs: the host's devices, never written
    op.noexec = f.noexec;
    op.atime = f.atime;
    std::optional<std::uint64_t> asked;
    for (const auto& o : f.options) {
        if (f.type == "tmpfs" && o.starts_with("size=")) {
            asked = size_mb(o.substr(5));
            if (!asked) throw Error("tmpfs at " + f.target + ": size " + o.substr(5) + " is not a size in bytes, k, m or g");
            continue;
        }
        op.fs_options.push_back(o);
    }
    // Each tmpfs is capped at the policy's tmpfs budget (the memory cgroup bounds them all).
    if (f.type == "tmpfs") {
        std::optional<std::uint64_t> cap = policy.limits.tmpfs_mb;
        if (asked && cap) cap = std::min(*asked, *cap);
        else if (asked) cap = asked;
        if (cap) op.fs_options.push_back("size=" + std::to_string(std::max<std::uint64_t>(*cap, 1)) + "m");
    }
    return op;
}

bool listed(const std::vector<FilesystemMount>& filesystems, const char* type, const char* target) {
    return std::any_of(filesystems.begin(), filesystems.end(),
                       [&](const FilesystemMount& f) { return f.type == type && f.target == target; });
}

// ContainerLayout's steps 1 to 3 and /dev read-only (its comment in launch.hpp).
void add_container_layout(const policy::Policy& policy, const std::vector<ExtraBind>& extra,
                          const std::vector<FilesystemMount>& filesystems, const DevExtras& devices,
                          const ContainerLayout& layout, std::vector<MountOp>& ops) {
    if (layout.leading_binds > extra.size()) throw Error("container layout: more leading binds than binds");
    std::vector<bool> named(extra.size() + filesystems.size(), false);
    for (const ListedMount& m : layout.order) {
        if (m.index >= (m.filesystem ? filesystems.size() : extra.size()) ||
            (!m.filesystem && m.index < layout.leading_binds))
            throw Error("container layout: the mount order names no listed mount at " + std::to_string(m.index));
        named[m.filesystem ? extra.size() + m.index : m.index] = true;
    }
    for (std::size_t i = layout.leading_binds; i < named.size(); ++i)
        if (!named[i]) throw Error("container layout: a listed mount is missing from the mount order");

    if (layout.root_tree >= 0) {
        require_absolute(layout.root_path, "container root");
        MountOp root = bind(layout.root_path, std::string("/"), layout.root_read_only ? BindAccess::ReadOnly : BindAccess::ReadWrite);
        root.tree = layout.root_tree;
        ops.push_back(std::move(root));
    } else {
        ops.push_back(tmpfs("/", 0755));
    }
    const std::size_t first_bind = ops.size();
    for (std::size_t i = 0; i < layout.leading_binds; ++i) ops.push_back(extra_bind_op(extra[i]));
    std::stable_sort(ops.begin() + static_cast<std::ptrdiff_t>(first_bind), ops.end(),
                     [](const MountOp& a, const MountOp& b) { return depth(a.target) < depth(b.target); });
    ops = settle_nested(ops, first_bind);

    const std::uint64_t tmp_mb = policy.limits.tmpfs_mb.value_or(0);
    const bool own_shm = !listed(filesystems, "tmpfs", "/dev/shm");
    if (!listed(filesystems, "proc", "/proc")) ops.push_back(proc_op());
    if (!listed(filesystems, "tmpfs", "/dev")) {
        ops.push_back(tmpfs("/dev", 0755));
        add_dev_contents(ops, devices);
        if (own_shm) ops.push_back(scratch_dir("shm", "/dev/shm", 01777, tmp_mb));
    }
    if (!listed(filesystems, "tmpfs", "/tmp")) ops.push_back(scratch_dir("tmp", "/tmp", 01777, tmp_mb));

    const std::size_t first_listed = ops.size();
    for (const ListedMount& m : layout.order) {
        if (!m.filesystem) {
            ops.push_back(extra_bind_op(extra[m.index]));
            continue;
        }
        const FilesystemMount& f = filesystems[m.index];
        ops.push_back(filesystem_op(policy, f));
        if (f.type == "tmpfs" && f.target == "/dev") {
            add_dev_contents(ops, devices);
            if (own_shm) ops.push_back(scratch_dir("shm", "/dev/shm", 01777, tmp_mb));
        }
    }
    // A listed bind below an earlier bind goes where that bind's tree has it.
    ops = settle_nested(ops, first_listed, /*listed=*/true);
    if (listed(filesystems, "devpts", "/dev/pts")) ops.push_back(symlink("pts/ptmx", "/dev/ptmx"));
    ops.push_back(remount_ro("/dev"));
}

}  // namespace

MountPlan build_mount_plan(const policy::Policy& policy, const std::vector<ExtraBind>& extra,
                           const std::optional<std::string>& workdir, const std::vector<OverlayMount>& overlays,
                           const std::vector<FilesystemMount>& filesystems,
                           const std::vector<std::pair<std::string, std::string>>& sysctls,
                           const std::vector<std::string>& masked_paths,
                           const std::vector<std::string>& readonly_paths,
                           const std::vector<std::string>& host_devices,
                           const std::vector<DeviceTree>& device_trees,
                           const std::optional<ContainerLayout>& container) {
    MountPlan plan;
    const DevExtras devices{host_devices, device_trees};
    if (container) {
        // The container's file system is its root and its listed mounts: no host path of
        // the policy's, no system view (the rootfs has its own /etc).
        if (!policy.allowed_paths.empty() || !overlays.empty() || workdir)
            throw Error("container layout: allowed paths, overlays and a work directory have no place in it");
        add_container_layout(policy, extra, filesystems, devices, *container, plan.ops);
        plan.made_in_order = true;
    } else {
        // Listed file systems have their place in a container layout's order only.
        if (!filesystems.empty()) throw Error("mount plan: file systems are listed only with a container layout");
        add_skeleton(policy, devices, plan.ops);
    }

    std::vector<MountOp> binds;
    for (const auto& rule : container ? std::vector<policy::PathRule>{} : policy.allowed_paths) {
        require_absolute(rule.path, "allowed path");
        struct stat st = lstat_or_throw(rule.path, "allowed path");
        if (S_ISLNK(st.st_mode)) {
            // Recreate the link (/lib -> usr/lib on merged-/usr) instead of binding what it
            // points to: only what the policy names becomes visible, and the link resolves
            // inside the sandbox exactly as it does on the host when its target is allowed.
            binds.push_back(symlink(read_link(rule.path), rule.path));
            continue;
        }
        refuse_undoing_bind(rule.path, rule.mode, "allowed path");
        binds.push_back(bind(rule.path, rule.path,
                             rule.mode == policy::PathMode::ReadWrite ? BindAccess::ReadWrite
                                                                      : BindAccess::ReadOnly));
    }
    if (!container)
        for (const auto& b : extra) binds.push_back(extra_bind_op(b));
    for (const auto& o : overlays) {
        require_absolute(o.inside, "overlay target");
        // The same checks as a bind of each host directory: the lower one read-only, the
        // two the sandbox writes to read-write.
        for (const auto& [path, mode, what] :
             {std::tuple{o.lower, policy::PathMode::ReadOnly, "overlay lower directory"},
              std::tuple{o.upper, policy::PathMode::ReadWrite, "overlay upper directory"},
              std::tuple{o.work, policy::PathMode::ReadWrite, "overlay work directory"}}) {
            require_absolute(path, what);
            struct stat st = lstat_or_throw(path, what);
            if (!S_ISDIR(st.st_mode)) throw Error(std::string(what) + " " + path + ": not a directory");
            refuse_undoing_bind(path, mode, what);
        }
        MountOp op;
        op.kind = MountKind::Overlay;
        op.source = o.lower;
        op.upper = o.upper;
        op.work = o.work;
        op.target = o.inside;
        binds.push_back(std::move(op));
    }
    if (workdir) {
        require_absolute(*workdir, "work directory");
        struct stat st = lstat_or_throw(*workdir, "work directory");
        if (!S_ISDIR(st.st_mode)) throw Error("work directory " + *workdir + ": not a directory");
        refuse_undoing_bind(*workdir, policy::PathMode::ReadWrite, "work directory");
        binds.push_back(bind(*workdir, *workdir, BindAccess::ReadWrite));
    }
    if (!container) add_system_view(policy, workdir, binds);
    // Parents before children: a shallower mount would otherwise hide a deeper one.
    std::stable_sort(binds.begin(), binds.end(), [](const MountOp& a, const MountOp& b) {
        return depth(a.target) < depth(b.target);
    });
    binds = settle_nested(binds);
    plan.ops.insert(plan.ops.end(), binds.begin(), binds.end());
    for (const auto& [key, value] : sysctls) {
        // Dots name the levels; a key of anything else could leave /proc/sys.
        if (key.empty() || key.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-.") != std::string::npos ||
            key.front() == '.' || key.back() == '.' || key.find("..") != std::string::npos)
            throw Error("sysctl " + key + ": not a sysctl name");
        std::string path = "/proc/sys/" + key;
        std::replace(path.begin(), path.end(), '.', '/');
        MountOp op;
        op.kind = MountKind::Sysctl;
        op.target = path;
        op.content = value;
        plan.ops.push_back(std::move(op));
    }
    // After everything they could lie in (/proc, /sys), before the root turns read-only.
    for (const auto& [paths, kind] : {std::pair{&readonly_paths, MountKind::ReadOnlyPath}, std::pair{&masked_paths, MountKind::Mask}}) {
        for (const auto& path : *paths) {
            require_absolute(path, kind == MountKind::Mask ? "masked path" : "read-only path");
            MountOp op;
            op.kind = kind;
            op.target = path;
            plan.ops.push_back(std::move(op));
        }
    }

    // Last: nothing may be created in the root itself once the mount points exist (a
    // container's own root stays as its caller captured it: read-only, or the rootfs
    // the container writes).
    if (!container || container->root_tree < 0 || container->root_read_only) plan.ops.push_back(remount_ro("/"));
    return plan;
}

bool at_or_below(const std::string& path, const std::string& dir) {
    return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                           (dir == "/" || path[dir.size()] == '/'));
}

std::string describe(const MountOp& op) {
    switch (op.kind) {
        case MountKind::Tmpfs: {
            char mode[16];
            std::snprintf(mode, sizeof mode, "%04o", op.mode);
            return "tmpfs " + op.target + " mode=" + mode +
                   (op.size_mb ? " size=" + std::to_string(op.size_mb) + "M" : "") +
                   " nosuid,nodev";
        }
        case MountKind::ScratchDir: {
            char mode[16];
            std::snprintf(mode, sizeof mode, "%04o", op.mode);
            return "scratch " + op.target + " <- " + op.source + " mode=" + mode + " (one tmpfs" +
                   (op.size_mb ? " size=" + std::to_string(op.size_mb) + "M" : "") +
                   " for all scratch) nosuid,nodev";
        }
        case MountKind::Proc:
            return "proc " + op.target + " nosuid,nodev,noexec";
        case MountKind::Bind: {
            const char* access = op.access == BindAccess::ReadOnly    ? "ro,nosuid,nodev"
                                 : op.access == BindAccess::ReadWrite ? "rw,nosuid,nodev"
                                                                      : "dev,nosuid,noexec";
            return "bind " + op.target + " <- " + op.source + " " + access + (op.noexec ? ",noexec" : "");
        }
        case MountKind::Symlink:
            return "symlink " + op.target + " -> " + op.source;
        case MountKind::RemountReadOnly:
            return "remount-ro " + op.target;
        case MountKind::Overlay:
            return "overlay " + op.target + " <- lower=" + op.source + " upper=" + op.upper + " nosuid,nodev";
        case MountKind::File:
            if (!op.source.empty()) return "file " + op.target + " <- " + op.source + " (copied)";
            return "file " + op.target + " (" + std::to_string(op.content.size()) + " bytes, written for the sandbox)";
        case MountKind::Sysctl:
            return "sysctl " + op.target + " = " + op.content;
        case MountKind::Mask:
            return "mask " + op.target + " (if it exists)";
        case MountKind::ReadOnlyPath:
            return "read-only " + op.target + " (if it exists)";
        case MountKind::Filesystem: {
            std::string options;
            for (const auto& o : op.fs_options) options += o + ",";
            return op.fs_type + " " + op.target + " source=" + op.source + " " + options +
                   (op.read_only ? "ro," : "") + (op.noexec ? "noexec," : "") + "nosuid,nodev";
        }
    }
    return "?";
}

std::string describe(const MountPlan& plan) {
    std::string out;
    for (const auto& op : plan.ops) out += describe(op) + "\n";
    return out;
}

}  // namespace aj::helper
