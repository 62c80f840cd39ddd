#include "runner/tree_copy.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vector>

#include "policy/dir_list.hpp"
#include "policy/sys.hpp"
#include "policy/error.hpp"

namespace aj::runner {

namespace {

using sys::UniqueFd;

std::string join(const std::string& rel, const std::string& name) {
    return rel.empty() ? name : rel + "/" + name;
}

// True when `target`, read from a symlink at `link_rel` (relative to the tree root),
// resolves lexically to a place inside the tree.
bool symlink_stays_inside(const std::string& link_rel, const std::string& target) {
    if (target.empty() || target.front() == '/') return false;
    std::vector<std::string> parts;
    auto walk = [&parts](const std::string& path) {
        std::size_t pos = 0;
        while (pos <= path.size()) {
            std::size_t end = path.find('/', pos);
            if (end == std::string::npos) end = path.size();
            std::string part = path.substr(pos, end - pos);
            pos = end + 1;
            if (part.empty() || part == ".") continue;
            if (part == "..") {
                if (parts.empty()) return false;
                parts.pop_back();
            } else {
                parts.push_back(part);
            }
        }
        return true;
    };
    // Resolution starts in the directory holding the link.
    std::size_t slash = link_rel.rfind('/');
    std::string dir = slash == std::string::npos ? std::string() : link_rel.substr(0, slash);
    return walk(dir) && walk(target);
}

void copy_file_contents(int src_fd, int dst_fd, const std::string& rel, const CopyLimits& limits,
                        CopyStats& stats) {
    char buf[65536];
    for (;;) {
        ssize_t n = sys::retry_eintr([&] { return ::read(src_fd, buf, sizeof buf); });
        if (n < 0) throw_errno("reading package file " + rel);
        if (n == 0) break;
        stats.bytes += static_cast<std::uint64_t>(n);
        // Counted as read, not from st_size: a file growing during the copy is still capped.
        if (stats.bytes > limits.max_bytes)
            throw Error("package is larger than " + std::to_string(limits.max_bytes >> 20) +
                        " MiB (at " + rel + ")");
        sys::write_all(dst_fd, std::string_view(buf, static_cast<std::size_t>(n)),
                       "writing staged copy of " + rel);
    }
}

// The staged copy's permission bits: the source's, never wider. Only read/write/exec
// bits survive (no set-id, no sticky; group/world write never), and when the copy's group
// is not the source's, that group gets no more than the world had: root staging a
// 0640 root:shadow file stores 0600 root:root, never 0644.
mode_t staged_mode(const struct stat& source, gid_t copy_gid) {
    mode_t mode = source.st_mode & 0755;
    if (copy_gid != source.st_gid) mode = (mode & ~mode_t{070}) | (mode & (source.st_mode & 07) << 3);
    return mode;
}

// A hard link makes a file of someone else part of the package (root staging a package
// that links /etc/shadow would copy the shadow file's contents): a file with more than
// one link must belong to the package's owner.
void check_link_owner(const struct stat& file, uid_t package_owner, const std::string& path) {
    if (file.st_nlink > 1 && file.st_uid != package_owner)
        throw Error("package file " + path + " is a hard link (" + std::to_string(file.st_nlink) +
                    " links) to a file of uid " + std::to_string(file.st_uid) + ", not of the package's owner (uid " +
                    std::to_string(package_owner) + "): refused");
}

void copy_dir(int src_fd, int dst_fd, const std::string& rel, unsigned depth,
              const CopyLimits& limits, uid_t owner, CopyStats& stats) {
    if (depth > limits.max_depth)
        throw Error("package nests deeper than " + std::to_string(limits.max_depth) +
                    " directories (at " + rel + ")");
    for (const std::string& name : sys::list_dir(src_fd, rel.empty() ? "package root" : rel)) {
        std::string path = join(rel, name);
        if (++stats.entries > limits.max_entries)
            throw Error("package has more than " + std::to_string(limits.max_entries) + " entries");
        struct stat st{};
        if (::fstatat(src_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0)
            throw_errno("stat package entry " + path);

        if (S_ISDIR(st.st_mode)) {
            UniqueFd sub(sys::retry_eintr([&] {
                return ::openat(src_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            }));
            if (!sub) throw_errno("opening package directory " + path);
            if (::mkdirat(dst_fd, name.c_str(), 0700) < 0) throw_errno("creating staged directory " + path);
            UniqueFd dsub(sys::retry_eintr([&] {
                return ::openat(dst_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            }));
            if (!dsub) throw_errno("opening staged directory " + path);
            copy_dir(sub.get(), dsub.get(), path, depth + 1, limits, owner, stats);
            // Only now readable by others (as far as the source was): a half-built tree
            // is private to us.
            struct stat dst{};
            sys::check(::fstat(dsub.get(), &dst), "stat staged directory " + path);
            sys::check(::fchmod(dsub.get(), staged_mode(st, dst.st_gid)), "chmod staged directory " + path);
        } else if (S_ISREG(st.st_mode)) {
            // O_NONBLOCK: should the entry be swapped for a fifo after the stat, open must
            // not hang; fstat below then refuses it.
            UniqueFd in(sys::retry_eintr([&] {
                return ::openat(src_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
            }));
            if (!in) throw_errno("opening package file " + path);
            struct stat fst{};
            sys::check(::fstat(in.get(), &fst), "stat package file " + path);
            if (!S_ISREG(fst.st_mode)) throw Error("package entry " + path + " changed type during staging");
            check_link_owner(fst, owner, path);
            UniqueFd out(sys::retry_eintr([&] {
                return ::openat(dst_fd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
            }));
            if (!out) throw_errno("creating staged file " + path);
            copy_file_contents(in.get(), out.get(), path, limits, stats);
            struct stat dst{};
            sys::check(::fstat(out.get(), &dst), "stat staged file " + path);
            sys::check(::fchmod(out.get(), staged_mode(fst, dst.st_gid)), "chmod staged file " + path);
        } else if (S_ISLNK(st.st_mode)) {
            char target[4096];
            ssize_t n = ::readlinkat(src_fd, name.c_str(), target, sizeof target - 1);
            if (n < 0) throw_errno("readlink package symlink " + path);
            std::string t(target, static_cast<std::size_t>(n));
            if (!t.empty() && t.front() == '/')
                throw Error("package symlink " + path + " -> " + t +
                            " is absolute: refused (only relative links inside the package)");
            if (!symlink_stays_inside(path, t))
                throw Error("package symlink " + path + " -> " + t + " points outside the package: refused");
            if (::symlinkat(t.c_str(), dst_fd, name.c_str()) < 0)
                throw_errno("creating staged symlink " + path);
        } else {
            const char* kind = S_ISFIFO(st.st_mode)   ? "a fifo"
                               : S_ISSOCK(st.st_mode) ? "a socket"
                               : S_ISCHR(st.st_mode)  ? "a character device"
                               : S_ISBLK(st.st_mode)  ? "a block device"
                                                      : "a special file";
            throw Error("package entry " + path + " is " + kind + ": refused");
        }
    }
}

long openat2_call(int dir_fd, const char* path, open_how* how) {
    return ::syscall(SYS_openat2, dir_fd, path, how, sizeof *how);
}

void verify_dir(int root_fd, int dir_fd, const std::string& rel) {
    for (const std::string& name : sys::list_dir(dir_fd, rel.empty() ? "staged root" : rel)) {
        std::string path = join(rel, name);
        struct stat st{};
        if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0)
            throw_errno("stat staged entry " + path);
        if (S_ISLNK(st.st_mode)) {
            open_how how{};
            how.flags = O_PATH | O_CLOEXEC;
            how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
            long fd = openat2_call(root_fd, path.c_str(), &how);
            if (fd >= 0) {
                ::close(static_cast<int>(fd));
            } else if (errno == EXDEV) {
                throw Error("package symlink " + path + " resolves outside the package: refused");
            } else if (errno == ENOSYS) {
                // Kernel < 5.6: the lexical check in copy_tree is all we have; refuse
                // any ".." so that chains of links cannot climb out.
                char target[4096];
                ssize_t n = ::readlinkat(dir_fd, name.c_str(), target, sizeof target - 1);
                if (n < 0) throw_errno("readlink staged symlink " + path);
                if (std::string(target, static_cast<std::size_t>(n)).find("..") != std::string::npos)
                    throw Error("package symlink " + path +
                                " uses \"..\" and this kernel has no openat2 to check it: refused");
            }
            // ENOENT/ELOOP: a dangling or looping link inside a read-only tree reaches nothing.
        } else if (S_ISDIR(st.st_mode)) {
            UniqueFd sub(sys::retry_eintr([&] {
                return ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            }));
            if (!sub) throw_errno("opening staged directory " + path);
            verify_dir(root_fd, sub.get(), path);
        }
    }
}

}  // namespace

CopyStats copy_tree(int src_dir_fd, int dst_dir_fd, const CopyLimits& limits) {
    CopyStats stats;
    struct stat root{};
    sys::check(::fstat(src_dir_fd, &root), "stat package directory");
    copy_dir(src_dir_fd, dst_dir_fd, "", 0, limits, root.st_uid, stats);
    return stats;
}

void verify_symlinks_beneath(int root_fd) { verify_dir(root_fd, root_fd, ""); }

namespace {

// Directories deeper than this are renamed up to the top of the removal and removed
// from there, so a hostile tree thousands of levels deep never needs thousands of fds.
constexpr unsigned kHoistDepth = 128;

// Opens directory `child` of `dir_fd`; one a sandbox made unreadable (mode 0) is made
// ours again first (the chmod does not follow symlinks).
UniqueFd open_for_removal(int dir_fd, const std::string& child, const std::string& what) {
    auto open_dir = [&] {
        return UniqueFd(sys::retry_eintr([&] {
            return ::openat(dir_fd, child.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }));
    };
    UniqueFd sub = open_dir();
    if (!sub && errno == EACCES && ::fchmodat(dir_fd, child.c_str(), 0700, AT_SYMLINK_NOFOLLOW) == 0)
        sub = open_dir();
    if (!sub) throw_errno("opening " + what + "/" + child + " to remove it");
    // Its entries can only be unlinked when we may write it (root may anyway).
    (void)::fchmod(sub.get(), 0700);
    return sub;
}

void remove_entries(int top_fd, int dir_fd, const std::string& what, unsigned depth,
                    std::vector<std::string>& hoisted, unsigned long& hoist_seq) {
    for (const std::string& child : sys::list_dir(dir_fd, what)) {
        if (::unlinkat(dir_fd, child.c_str(), 0) == 0 || errno == ENOENT) continue;
        if (errno != EISDIR && errno != EPERM) throw_errno("removing " + what + "/" + child);
        if (depth >= kHoistDepth) {
            std::string up;
            int rc;
            do {
                up = ".rm-hoist-" + std::to_string(hoist_seq++);
                rc = ::renameat2(dir_fd, child.c_str(), top_fd, up.c_str(), RENAME_NOREPLACE);
            } while (rc < 0 && errno == EEXIST);
            if (rc < 0) throw_errno("moving deep directory " + child + " up to remove it");
            hoisted.push_back(up);
            continue;
        }
        UniqueFd sub = open_for_removal(dir_fd, child, what);
        remove_entries(top_fd, sub.get(), what + "/" + child, depth + 1, hoisted, hoist_seq);
        if (::unlinkat(dir_fd, child.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT)
            throw_errno("removing directory " + what + "/" + child);
    }
}

}  // namespace

void remove_tree(int parent_fd, const std::string& name) {
    if (::unlinkat(parent_fd, name.c_str(), 0) == 0 || errno == ENOENT) return;
    if (errno != EISDIR && errno != EPERM) throw_errno("removing " + name);
    UniqueFd top(sys::retry_eintr([&] {
        return ::openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }));
    if (!top) {
        if (errno == ENOENT) return;
        throw_errno("opening " + name + " to remove it");
    }
    std::vector<std::string> pending{"."};
    unsigned long hoist_seq = 0;
    while (!pending.empty()) {
        std::string entry = std::move(pending.back());
        pending.pop_back();
        if (entry == ".") {
            remove_entries(top.get(), top.get(), name, 0, pending, hoist_seq);
            continue;
        }
        UniqueFd sub = open_for_removal(top.get(), entry, name);
        remove_entries(top.get(), sub.get(), name + "/" + entry, 1, pending, hoist_seq);
        if (::unlinkat(top.get(), entry.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT)
            throw_errno("removing directory " + name + "/" + entry);
    }
    if (::unlinkat(parent_fd, name.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT)
        throw_errno("removing directory " + name);
}

}  // namespace aj::runner
