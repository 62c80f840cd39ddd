#include "helper/mounts.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "helper/bind_source_check.hpp"
#include "helper/mountinfo.hpp"
#include "policy/sys.hpp"

namespace aj::helper {

namespace {

using sys::UniqueFd;

// Where the new root is assembled: a tmpfs over the host's /tmp, visible only in this
// private mount namespace. Bind sources are captured before it is mounted, so hiding the
// host's /tmp here hides nothing the plan needs.
constexpr const char* kStaging = "/tmp";

// Opens `path` below the new root with every symlink resolved as if `root` were "/":
// a link planted in a bound tree can never lead mount-point creation onto the host.
UniqueFd open_in_root(int root, const std::string& path, std::uint64_t flags, const std::string& what,
                      std::uint64_t resolve = RESOLVE_NO_MAGICLINKS) {
    open_how how{};
    how.flags = flags | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | resolve;
    std::string rel = path == "/" ? "." : path.substr(1);
    int fd = sys::retry_eintr(
        [&] { return static_cast<int>(::syscall(SYS_openat2, root, rel.c_str(), &how, sizeof how)); });
    if (fd < 0) throw_errno(what + " " + path);
    return UniqueFd(fd);
}

std::string parent_of(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == 0 ? "/" : path.substr(0, slash);
}
std::string name_of(const std::string& path) { return path.substr(path.rfind('/') + 1); }

// The directories of the new root made so far (mkdir -p), as O_PATH descriptors by path.
// The system view alone places dozens of entries in /etc: walking from the root for each
// cost a resolution, a failed mkdir and two closes apiece on every run. A descriptor names
// the directory that was there when it was opened, so a mount placed at a path drops every
// entry at or below it (they name what the mount now covers) and the next use reopens.
class NewRootDirs {
public:
    explicit NewRootDirs(int root) : root_(root) {}

    int root() const { return root_; }

    // mkdir -p inside the new root; the descriptor stays owned by this cache.
    int make(const std::string& path) {
        if (auto known = open_.find(path); known != open_.end()) return known->second.get();
        if (path != "/") {
            const int parent = make(parent_of(path));
            if (::mkdirat(parent, name_of(path).c_str(), 0755) != 0 && errno != EEXIST)
                throw_errno("creating mount point " + path);
        }
        UniqueFd fd = open_in_root(root_, path, O_PATH | O_DIRECTORY, path == "/" ? "opening new root" : "opening mount point");
        return open_.insert_or_assign(path, std::move(fd)).first->second.get();
    }

    // Something was mounted at (or unmounted from) `path`.
    void changed_at(const std::string& path) {
        std::erase_if(open_, [&](const auto& entry) { return at_or_below(entry.first, path); });
    }

private:
    int root_;
    std::map<std::string, UniqueFd> open_;
};

// Creates the mount point for a bind of `tree` at `path` (a directory or an empty file,
// matching the source) and returns an O_PATH fd on it: a directory's is `dirs`'s, a file's
// is kept in `file`.
int make_mount_point(NewRootDirs& dirs, const std::string& path, int tree, UniqueFd& file) {
    struct stat st {};
    sys::check(::fstat(tree, &st), "inspecting bind source for " + path);
    if (S_ISDIR(st.st_mode)) return dirs.make(path);
    const int parent = dirs.make(parent_of(path));
    std::string name = name_of(path);
    // O_EXCL: an existing file (inside a read-only bind too) is left as it is, untouched.
    int fd = ::openat(parent, name.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EEXIST && errno != EISDIR) throw_errno("creating mount point " + path);
    if (fd >= 0) ::close(fd);
    file = open_in_root(dirs.root(), path, O_PATH, "opening mount point");
    return file.get();
}

// Whether `name` in `dir` is already the symlink we would create (a grant below a
// symlinked directory: /lib/x with /lib -> usr/lib and /usr bound shows it already).
bool link_text_is(int dir, const std::string& name, const std::string& text) {
    std::string buf(text.size() + 1, '\0');
    ssize_t n = ::readlinkat(dir, name.c_str(), buf.data(), buf.size());
    return n == static_cast<ssize_t>(text.size()) && buf.compare(0, text.size(), text) == 0;
}

// The host file a MountKind::File names in `source`, opened by PID 1 before the pivot: a
// regular file every host user may read, no larger than the plan allows (the plan saw it
// so; a file replaced since is refused, never copied as something else).
struct CopiedHostFile {
    UniqueFd fd;
    std::size_t size = 0;  // as fstat saw it: what is copied (a file grown since is not)
};

CopiedHostFile open_copied_host_file(const MountOp& op) {
    struct stat st {};
    UniqueFd src(::open(op.source.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (!src) throw_errno("opening host file " + op.source + " to copy it to " + op.target);
    sys::check(::fstat(src.get(), &st), "reading the status of host file " + op.source);
    if (!S_ISREG(st.st_mode) || !(st.st_mode & S_IROTH) ||
        static_cast<std::size_t>(st.st_size) > kMaxCopiedHostFileBytes)
        throw Error("copying host file " + op.source + " to " + op.target +
                    ": refused: it changed while the sandbox started (no longer a regular file every user may read, "
                    "of at most " + std::to_string(kMaxCopiedHostFileBytes) + " bytes)");
    return {std::move(src), static_cast<std::size_t>(st.st_size)};
}

// A MountKind::File: created new (O_EXCL: never an existing file, never through a link)
// in the new root's own tmpfs, which is remounted read-only at the end of the plan. A
// copied host file moves through the kernel only (sendfile): no page of PID 1's memory,
// shared copy-on-write with the runner, is written.
void write_file_in_root(NewRootDirs& dirs, const MountOp& op, const CopiedHostFile* src) {
    const int parent = dirs.make(parent_of(op.target));
    const std::string name = name_of(op.target);
    // The plan's mode exactly: build_root runs with a umask of 0 (ZeroUmask).
    UniqueFd fd(::openat(parent, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, op.mode));
    if (!fd) throw_errno("creating " + op.target + " in the new root");
    if (src) {
        sys::send_file(fd.get(), src->fd.get(), src->size, "copying " + op.source + " to " + op.target);
    } else {
        sys::write_all(fd.get(), op.content, "writing " + op.target + " in the new root");
    }
}

// A umask of 0 for the scope: the new root's files and directories get the plan's modes
// as created, without a chmod each. The previous umask is what the command inherits.
class ZeroUmask {
public:
    ZeroUmask() : old_(::umask(0)) {}
    ~ZeroUmask() { ::umask(old_); }
    ZeroUmask(const ZeroUmask&) = delete;
    ZeroUmask& operator=(const ZeroUmask&) = delete;

private:
    mode_t old_;
};

void set_attrs(int fd, unsigned flags, std::uint64_t attrs, const std::string& what) {
    mount_attr attr{};
    attr.attr_set = attrs;
    // Only setting flags, never clearing: a flag the host locked on the source (ro,
    // nosuid, nodev, noexec, atime) stays as it is, so a user namespace gets no EPERM.
    sys::check(::mount_setattr(fd, "", AT_EMPTY_PATH | flags, &attr, sizeof attr), what);
}

}  // namespace

std::uint64_t atime_attr_bits(const AtimeAttrs& atime) {
    return (atime.change ? atime.mode : 0) | (atime.nodiratime ? MOUNT_ATTR_NODIRATIME : 0);
}

UniqueFd capture_tree(int dirfd, const std::string& path, unsigned lookup, BindAccess access,
                      const std::string& what, bool noexec, const AtimeAttrs& atime) {
    int fd = ::open_tree(dirfd, path.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | lookup);
    if (fd < 0) throw_errno("binding " + what + " (open_tree)");
    UniqueFd tree(fd);
    if (std::string why = undoing_bind_reason(tree.get(), access); !why.empty())
        throw Error("binding " + what + ": refused: " + why);
    std::uint64_t attrs = MOUNT_ATTR_NOSUID;
    switch (access) {
        case BindAccess::ReadOnly: attrs |= MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV; break;
        case BindAccess::ReadWrite: attrs |= MOUNT_ATTR_NODEV; break;
        case BindAccess::Device: attrs |= MOUNT_ATTR_NOEXEC; break;
    }
    if (noexec) attrs |= MOUNT_ATTR_NOEXEC;
    // AT_RECURSIVE: sub-mounts of a read-only path are read-only too.
    set_attrs(tree.get(), AT_RECURSIVE, attrs, "restricting bind " + what + " (mount_setattr)");
    // Private, as every mount of a sandbox is: kernels before 6.15 put a clone of a shared
    // mount (a systemd host's /) in its peer group, and pivot_root(2) refuses a shared
    // new root (EINVAL); nothing may propagate between the host and the sandbox either way.
    mount_attr priv{};
    priv.propagation = MS_PRIVATE;
    sys::check(::mount_setattr(tree.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &priv, sizeof priv),
               "making bind " + what + " private (mount_setattr)");
    if (atime.change || atime.nodiratime) {
        // The atime mode is one field: replacing it means clearing the old one.
        mount_attr attr{};
        attr.attr_set = atime_attr_bits(atime);
        attr.attr_clr = atime.change ? MOUNT_ATTR__ATIME : 0;
        sys::check(::mount_setattr(tree.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr),
                   "setting the access-time options of bind " + what + " (mount_setattr)");
    }
    return tree;
}

UniqueFd capture_bind(const MountOp& op) {
    return capture_tree(AT_FDCWD, op.source, 0, op.access, op.source, op.noexec, op.atime);
}

namespace {

void attach(int mount_fd, int target, const std::string& what) {
    sys::check(::move_mount(mount_fd, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH),
               what + " (move_mount)");
}

// Mounts `mount_fd` on the directory `path` of the new root, made if missing.
void attach_at_dir(NewRootDirs& dirs, int mount_fd, const std::string& path, const std::string& what) {
    attach(mount_fd, dirs.make(path), what);
    dirs.changed_at(path);
}

}  // namespace

UniqueFd new_filesystem(const char* type, const std::map<std::string, std::string>& options,
                        unsigned attrs, const std::string& what) {
    UniqueFd ctx(::fsopen(type, FSOPEN_CLOEXEC));
    if (!ctx) throw_errno(what + " (fsopen " + type + ")");
    for (const auto& [key, value] : options) {
        // An empty value is a flag option (overlay's "userxattr").
        if (value.empty())
            sys::check(::fsconfig(ctx.get(), FSCONFIG_SET_FLAG, key.c_str(), nullptr, 0), what + " (" + key + ")");
        else
            sys::check(::fsconfig(ctx.get(), FSCONFIG_SET_STRING, key.c_str(), value.c_str(), 0),
                       what + " (" + key + "=" + value + ")");
    }
    sys::check(::fsconfig(ctx.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0), what + " (create)");
    UniqueFd mnt(::fsmount(ctx.get(), FSMOUNT_CLOEXEC, attrs));
    if (!mnt) throw_errno(what + " (fsmount)");
    return mnt;
}

namespace {

UniqueFd new_tmpfs(const MountOp& op) {
    char mode[16];
    std::snprintf(mode, sizeof mode, "%o", op.mode);
    std::map<std::string, std::string> options{{"mode", mode}};
    if (op.size_mb) options["size"] = std::to_string(op.size_mb) + "m";
    return new_filesystem("tmpfs", options, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
                          "mounting tmpfs at " + op.target);
}

// An empty read-only stand-in mounted over `target` (open at `fd`): a tmpfs for a
// directory, for anything else a clone of the new root's /dev/null without device access.
void mask(int root, int fd, const std::string& target) {
    struct stat st {};
    sys::check(::fstat(fd, &st), "inspecting submount " + target);
    const std::uint64_t attrs = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
    UniqueFd cover;
    if (S_ISDIR(st.st_mode)) {
        cover = new_filesystem("tmpfs", {{"mode", "555"}, {"size", "4k"}}, static_cast<unsigned>(attrs),
                               "masking submount " + target);
    } else {
        cover = UniqueFd(::open_tree(root, "dev/null", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
        if (!cover) throw_errno("masking submount " + target + " (open_tree /dev/null)");
        set_attrs(cover.get(), 0, attrs, "masking submount " + target + " (mount_setattr)");
    }
    attach(cover.get(), fd, "masking submount " + target);
}

// `path` below the new root, no symlink on the way (a link planted in the rootfs cannot
// move a mask or a read-only bind elsewhere), or an invalid fd when it does not exist.
UniqueFd open_existing_in_root(int root, const std::string& path) {
    try {
        return open_in_root(root, path, O_PATH, "opening", RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
    } catch (const Error& e) {
        if (e.error_number() == ENOENT) return {};
        throw;
    }
}

// A Mask or ReadOnlyPath op on the (pivoted) root.
void restrict_path(int root, const MountOp& op) {
    UniqueFd target = open_existing_in_root(root, op.target);
    if (!target) return;  // nothing there to hide or protect
    if (op.kind == MountKind::Mask) {
        mask(root, target.get(), op.target);
        return;
    }
    UniqueFd tree(::open_tree(target.get(), "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH));
    if (!tree) throw_errno("making " + op.target + " read-only (open_tree)");
    set_attrs(tree.get(), AT_RECURSIVE, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
              "making " + op.target + " read-only (mount_setattr)");
    attach(tree.get(), target.get(), "making " + op.target + " read-only");
}

// Granted trees come with their submounts (open_tree AT_RECURSIVE). Those that would undo
// the sandbox (bind_source_check.hpp) are hidden under an empty read-only mount: checked
// on what the new root really holds, in this process's private copy of the mount table,
// which nobody else can change. Mounts the plan placed itself are not submounts.
void mask_undoing_submounts(const MountPlan& plan, int root) {
    struct statx sx {};
    sys::check(::statx(root, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx), "finding the new root's mount (statx)");
    if (!(sx.stx_mask & STATX_MNT_ID)) throw Error("finding the new root's mount: statx gave no mount id");
    std::set<std::string> placed;
    for (const MountOp& op : plan.ops) placed.insert(op.target);

    const auto mounts = parse_mountinfo(sys::read_file("/proc/self/mountinfo", 16 << 20));
    const std::string prefix = kStaging;
    std::vector<std::string> masked;
    for (const MountInfoEntry& m : mounts_below(mounts, sx.stx_mnt_id)) {
        if (!m.mount_point.starts_with(prefix + "/")) continue;
        const std::string target = m.mount_point.substr(prefix.size());
        if (placed.contains(target)) continue;
        bool covered = false;
        for (const auto& dir : masked) covered |= at_or_below(target, dir);
        if (covered) continue;
        // No symlink on the way: a link planted in a bound tree cannot move the mask.
        UniqueFd fd = open_in_root(root, target, O_PATH, "opening submount", RESOLVE_NO_SYMLINKS);
        if (undoing_submount_reason(fd.get(), m.fs_type).empty()) continue;
        mask(root, fd.get(), target);
        masked.push_back(target);
    }
}

// MountPlan::made_in_order: the trees the caller captured (ExtraBind::tree) belong to the
// caller's mount namespace, and the kernel clones a detached tree only in the namespace
// it came from. Attached here, on a small tmpfs stacked on the staging directory of the
// old root below the new one (a directory or an empty file each, as the tree's root is),
// they are this namespace's, and go with the old root when it is detached.
void park_caller_trees(const MountPlan& plan, int staging) {
    UniqueFd park;
    for (std::size_t i = 1; i < plan.ops.size(); ++i) {
        const MountOp& op = plan.ops[i];
        if (op.kind != MountKind::Bind || op.tree < 0) continue;
        const std::string what = "holding the captured " + op.source;
        if (!park) {
            park = new_filesystem("tmpfs", {{"mode", "700"}, {"size", "4k"}},
                                  MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, what);
            attach(park.get(), staging, what);
        }
        struct stat st {};
        sys::check(::fstat(op.tree, &st), what);
        const std::string name = std::to_string(i);
        if (S_ISDIR(st.st_mode)) {
            sys::check(::mkdirat(park.get(), name.c_str(), 0700), what + " (mkdir)");
        } else {
            UniqueFd file(::openat(park.get(), name.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
            if (!file) throw_errno(what + " (creating its mount point)");
        }
        UniqueFd point(::openat(park.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
        if (!point) throw_errno(what + " (opening its mount point)");
        attach(op.tree, point.get(), what);
    }
}

// Whether the mount `tree` is on is in this process's mount namespace (a detached tree's
// is not: mountinfo lists only the namespace's mounts).
bool is_attached(int tree) {
    struct statx sx {};
    if (::statx(tree, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) != 0 || !(sx.stx_mask & STATX_MNT_ID)) return true;
    const auto mounts = parse_mountinfo(sys::read_file("/proc/self/mountinfo", 16 << 20));
    return std::any_of(mounts.begin(), mounts.end(), [&](const MountInfoEntry& m) { return m.id == sx.stx_mnt_id; });
}

// A clone of `tree` to attach in its place, or none: then the tree itself is attached.
// Kernels before 6.15 clone no detached tree (open_tree EINVAL: Debian 12's 6.1 for a
// bind captured in this process, not parked); they list mountinfo in the order mounts
// join the namespace, so attaching the tree itself keeps the config's order there.
UniqueFd clone_tree(int tree, const std::string& what) {
    UniqueFd fresh(::open_tree(tree, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH));
    if (!fresh && errno == EINVAL && !is_attached(tree)) return UniqueFd();
    if (!fresh) throw_errno("binding " + what + " (open_tree of its captured tree)");
    return fresh;
}

// A detached overlayfs mount, created while the host tree is still in view: the kernel
// resolves the three directories here, by path, as the sandbox's user namespace root
// (unprivileged overlayfs; "userxattr" keeps its bookkeeping in user.* attributes, the
// only ones such a mount may write).
UniqueFd new_overlay(const MountOp& op) {
    return new_filesystem("overlay",
                          {{"lowerdir", op.source}, {"upperdir", op.upper}, {"workdir", op.work}, {"userxattr", ""}},
                          MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, "mounting overlay at " + op.target);
}

// The sandbox's one scratch tmpfs (ScratchDir ops), which /tmp and /dev/shm share so that
// one size budget holds for both. It is mounted on the staging directory of the *old* root
// before the new root's tmpfs is stacked on top of it, and its directories are bound into
// the new root from there: when the old root is detached after pivot_root, it goes along,
// and only the binds keep the file system. A mount of its own in the new root would need
// an unmount of its own, and every unmount waits for an RCU grace period (namespace_unlock
// in the kernel): 0.2 ms on an idle host, tens of milliseconds on a busy one.
class ScratchFs {
public:
    // Before the new root is mounted at `staging`, when the plan has scratch directories.
    void mount_below_new_root(const MountPlan& plan, int staging) {
        const auto first = std::find_if(plan.ops.begin(), plan.ops.end(),
                                        [](const MountOp& op) { return op.kind == MountKind::ScratchDir; });
        if (first == plan.ops.end()) return;
        MountOp op;
        op.kind = MountKind::Tmpfs;
        op.target = "the scratch tmpfs";
        op.mode = 0700;
        op.size_mb = first->size_mb;
        UniqueFd fs = new_tmpfs(op);
        attach(fs.get(), staging, "mounting the scratch tmpfs");
        mount_ = std::move(fs);  // fsmount's descriptor names the tmpfs's root
    }

    void bind_dir(NewRootDirs& dirs, const MountOp& op) {
        if (!mount_) throw Error("mount plan: scratch directory " + op.source + " without the scratch tmpfs");
        if (::mkdirat(mount_.get(), op.source.c_str(), 0700) != 0)
            throw_errno("creating scratch directory " + op.source + " for " + op.target);
        // mkdir's mode passes through the umask; the plan's mode must hold exactly.
        sys::check(::fchmodat(mount_.get(), op.source.c_str(), op.mode, 0),
                   "setting the mode of scratch directory " + op.source);
        int fd = ::open_tree(mount_.get(), op.source.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (fd < 0) throw_errno("binding scratch directory " + op.source + " (open_tree)");
        UniqueFd tree(fd);
        attach_at_dir(dirs, tree.get(), op.target, "binding scratch directory " + op.source + " at " + op.target);
    }

    // The descriptor on the file system's root (for its usage), once the old root, and the
    // scratch mount with it, is gone: it keeps nothing reachable by path.
    UniqueFd release() { return std::move(mount_); }

private:
    UniqueFd mount_;
};

}  // namespace

UniqueFd build_root(const MountPlan& plan, const std::map<std::size_t, int>& captured) {
    // The root is a tmpfs, or a tree the caller captured (ContainerLayout::root_tree).
    const bool root_tree = !plan.ops.empty() && plan.ops.front().kind == MountKind::Bind && plan.ops.front().tree >= 0;
    if (plan.ops.empty() || plan.ops.front().target != "/" || (plan.ops.front().kind != MountKind::Tmpfs && !root_tree))
        throw Error("mount plan: must start with the root tmpfs or tree");

    const ZeroUmask exact_modes;
    // Nothing we mount may propagate back to the host's mount namespace.
    sys::check(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr),
               "making / private (mount --make-rprivate /)");

    // Every host object is opened before the new root hides anything of the host's tree
    // (it is stacked on the host's /tmp, below).
    std::map<std::size_t, UniqueFd> trees;
    std::map<std::size_t, int> attach_fds;
    std::map<std::size_t, CopiedHostFile> copied;
    for (std::size_t i = 1; i < plan.ops.size(); ++i) {
        if (plan.ops[i].kind == MountKind::File && !plan.ops[i].source.empty()) {
            copied[i] = open_copied_host_file(plan.ops[i]);
            continue;
        }
        if (plan.ops[i].kind == MountKind::Overlay) {
            trees[i] = new_overlay(plan.ops[i]);
            continue;
        }
        if (plan.ops[i].kind != MountKind::Bind) continue;
        if (plan.ops[i].tree >= 0) {
            attach_fds[i] = plan.ops[i].tree;  // captured by the caller (ExtraBind::tree)
        } else if (auto given = captured.find(i); given != captured.end()) {
            attach_fds[i] = given->second;
        } else {
            trees[i] = capture_bind(plan.ops[i]);
            attach_fds[i] = trees[i].get();
        }
    }

    UniqueFd root_tmpfs = root_tree ? UniqueFd() : new_tmpfs(plan.ops.front());
    ScratchFs scratch;
    {
        UniqueFd staging_dir = sys::open_fd(kStaging, O_PATH | O_DIRECTORY, "opening staging directory");
        if (plan.made_in_order) park_caller_trees(plan, staging_dir.get());
        scratch.mount_below_new_root(plan, staging_dir.get());
        // Stacked on top of the scratch tmpfs, if there is one (a mount goes on the top of
        // what the target path already has).
        if (root_tree)
            attach(plan.ops.front().tree, staging_dir.get(), "mounting the container's root " + plan.ops.front().source);
        else
            attach(root_tmpfs.get(), staging_dir.get(), "mounting the new root tmpfs");
    }
    UniqueFd root = sys::open_fd(kStaging, O_PATH | O_DIRECTORY, "opening the new root");
    NewRootDirs dirs(root.get());

    for (std::size_t i = 1; i < plan.ops.size(); ++i) {
        const MountOp& op = plan.ops[i];
        switch (op.kind) {
            case MountKind::Tmpfs:
                attach_at_dir(dirs, new_tmpfs(op).get(), op.target, "mounting tmpfs at " + op.target);
                break;
            case MountKind::ScratchDir:
                scratch.bind_dir(dirs, op);
                break;
            case MountKind::Proc: {
                UniqueFd proc = new_filesystem("proc", {}, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
                                               "mounting proc at " + op.target);
                attach_at_dir(dirs, proc.get(), op.target, "mounting proc at " + op.target);
                break;
            }
            case MountKind::Filesystem: {
                std::map<std::string, std::string> options{{"source", op.source}};
                for (const auto& o : op.fs_options) {
                    const auto eq = o.find('=');
                    options[o.substr(0, eq)] = eq == std::string::npos ? "" : o.substr(eq + 1);
                }
                // A devpts holds only its own pseudo-terminals, which must open: no nodev.
                unsigned attrs = MOUNT_ATTR_NOSUID | (op.fs_type == "devpts" ? 0U : MOUNT_ATTR_NODEV);
                if (op.read_only) attrs |= MOUNT_ATTR_RDONLY;
                if (op.noexec) attrs |= MOUNT_ATTR_NOEXEC;
                attrs |= static_cast<unsigned>(atime_attr_bits(op.atime));
                const std::string what = "mounting " + op.fs_type + " at " + op.target;
                attach_at_dir(dirs, new_filesystem(op.fs_type.c_str(), options, attrs, what).get(), op.target, what);
                break;
            }
            case MountKind::Sysctl: {
                // The sandbox's own procfs: what it shows is PID 1's namespaces.
                UniqueFd file = open_in_root(root.get(), op.target, O_WRONLY, "setting sysctl",
                                             RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
                sys::write_all(file.get(), op.content, "setting sysctl " + op.target + " to " + op.content);
                break;
            }
            case MountKind::Mask:
            case MountKind::ReadOnlyPath:
                break;  // restrict_paths(), once PID 1 has written its own /proc/sys settings
            case MountKind::Bind: {
                UniqueFd file_point;
                const int target = make_mount_point(dirs, op.target, attach_fds[i], file_point);
                // A clone made now is listed in mountinfo after everything mounted so far.
                const UniqueFd fresh = plan.made_in_order ? clone_tree(attach_fds[i], op.source) : UniqueFd();
                attach(fresh ? fresh.get() : attach_fds[i], target, "binding " + op.source + " at " + op.target);
                dirs.changed_at(op.target);
                break;
            }
            case MountKind::Overlay:
                attach_at_dir(dirs, trees[i].get(), op.target, "mounting overlay at " + op.target);
                break;
            case MountKind::Symlink: {
                const int parent = dirs.make(parent_of(op.target));
                std::string name = name_of(op.target);
                if (::symlinkat(op.source.c_str(), parent, name.c_str()) != 0 &&
                    !(errno == EEXIST && link_text_is(parent, name, op.source)))
                    throw_errno("creating symlink " + op.target + " -> " + op.source);
                break;
            }
            case MountKind::File: {
                const auto src = copied.find(i);
                write_file_in_root(dirs, op, src == copied.end() ? nullptr : &src->second);
                break;
            }
            case MountKind::RemountReadOnly: {
                UniqueFd target = open_in_root(root.get(), op.target, O_PATH | O_DIRECTORY, "remounting read-only");
                set_attrs(target.get(), 0, MOUNT_ATTR_RDONLY, "remounting " + op.target + " read-only (mount_setattr)");
                break;
            }
        }
    }

    mask_undoing_submounts(plan, root.get());

    // pivot_root(".", ".") stacks the old root on top of the new one; detaching "." then
    // drops the whole host tree from this namespace (MNT_DETACH: busy mounts included).
    sys::check(::fchdir(root.get()), "entering the new root");
    sys::check(static_cast<int>(::syscall(SYS_pivot_root, ".", ".")), "pivot_root into the new root");
    sys::check(::umount2(".", MNT_DETACH), "detaching the old root");
    sys::check(::chdir("/"), "chdir / in the new root");
    return scratch.release();
}

void restrict_paths(const MountPlan& plan) {
    const UniqueFd root = sys::open_fd("/", O_PATH | O_DIRECTORY, "opening the sandbox's root");
    for (const MountOp& op : plan.ops)
        if (op.kind == MountKind::Mask || op.kind == MountKind::ReadOnlyPath) restrict_path(root.get(), op);
}

}  // namespace aj::helper
