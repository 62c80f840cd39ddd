#include "helper/project_quota.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>

#include "policy/atomic_write.hpp"
#include "policy/error.hpp"

namespace aj::helper {
namespace {

constexpr std::uint64_t kQuotaBlock = 1024;  // if_dqblk's block limits are in KiB

long quotactl_fd(int fd, int cmd, std::uint32_t id, void* addr) {
    return ::syscall(SYS_quotactl_fd, fd, cmd, id, addr);
}

// Project 0 and no PROJINHERIT for the open file `fd` when it carries project `id`;
// false when that was refused.
bool leave_project(int fd, std::uint32_t id) {
    fsxattr attr{};
    if (::ioctl(fd, FS_IOC_FSGETXATTR, &attr) != 0) return false;
    if (attr.fsx_projid != id) return true;
    attr.fsx_projid = 0;
    attr.fsx_xflags &= ~static_cast<std::uint32_t>(FS_XFLAG_PROJINHERIT);
    return ::ioctl(fd, FS_IOC_FSSETXATTR, &attr) == 0;
}

using DirStream = std::unique_ptr<DIR, int (*)(DIR*)>;

}  // namespace

std::string project_quota_reason(int err) {
    switch (err) {
        case 0: return "";
        case ESRCH:
            return "ESRCH: project quotas are not enabled on this file system (ext4: tune2fs -O project,quota and "
                   "mount with prjquota; XFS: mount with pquota)";
        case ENOSYS: return "ENOSYS: the kernel has no quotactl_fd (Linux 5.14+)";
        case EPERM:
        case EACCES: return errno_name(err) + ": setting project quotas needs CAP_SYS_ADMIN on the host";
        case ENOTTY:
        case EOPNOTSUPP:
        case EINVAL: return errno_name(err) + ": this file system has no project quotas";
        default: return errno_name(err) + ": the project quota state could not be read";
    }
}

ProjectQuotaSupport probe_project_quota(const std::string& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return {false, errno_name(errno) + ": opening " + dir};
    const sys::UniqueFd held(fd);
    if_dqinfo info{};
    if (quotactl_fd(held.get(), QCMD(Q_GETINFO, PRJQUOTA), 0, &info) == 0) return {true, ""};
    return {false, project_quota_reason(errno)};
}

if_dqblk project_limits_for(const if_dqblk& current, std::uint64_t bytes, std::uint64_t inodes) {
    if_dqblk out{};
    out.dqb_valid = QIF_LIMITS;
    if (bytes) {
        const std::uint64_t used_blocks = (current.dqb_curspace + kQuotaBlock - 1) / kQuotaBlock;
        out.dqb_bhardlimit = out.dqb_bsoftlimit = used_blocks + (bytes + kQuotaBlock - 1) / kQuotaBlock;
    }
    if (inodes) out.dqb_ihardlimit = out.dqb_isoftlimit = current.dqb_curinodes + inodes;
    return out;
}

std::uint64_t clear_project(const std::string& root, std::uint32_t id) {
    // O_NONBLOCK: opening a fifo would wait for a writer (only directories and regular
    // files are opened, but the sandbox is gone and cannot swap them, so this is belt
    // and braces); O_NOFOLLOW: a symlink is never followed out of the tree.
    constexpr int kOpen = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
    const int top = ::open(root.c_str(), kOpen | O_DIRECTORY);
    if (top < 0) return errno == ENOENT ? 0 : 1;
    std::uint64_t failed = leave_project(top, id) ? 0 : 1;
    struct stat root_st{};
    std::vector<DirStream> stack;
    if (::fstat(top, &root_st) != 0) {
        ::close(top);
        return failed + 1;
    }
    stack.emplace_back(::fdopendir(top), ::closedir);
    if (!stack.back()) {
        ::close(top);
        return failed + 1;
    }
    while (!stack.empty()) {
        DIR* dir = stack.back().get();
        const dirent* e = ::readdir(dir);
        if (!e) {
            stack.pop_back();
            continue;
        }
        if (e->d_name[0] == '.' && (e->d_name[1] == 0 || (e->d_name[1] == '.' && e->d_name[2] == 0))) continue;
        struct stat st{};
        if (::fstatat(::dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || st.st_dev != root_st.st_dev) continue;
        const bool is_dir = S_ISDIR(st.st_mode);
        if (!is_dir && !S_ISREG(st.st_mode)) continue;
        const int fd = ::openat(::dirfd(dir), e->d_name, kOpen | (is_dir ? O_DIRECTORY : 0));
        if (fd < 0) {
            ++failed;
            continue;
        }
        if (!leave_project(fd, id)) ++failed;
        if (!is_dir) {
            ::close(fd);
            continue;
        }
        if (stack.size() >= kMaxClearDepth) {
            ++failed;  // what is below keeps the project
            ::close(fd);
            continue;
        }
        DirStream below(::fdopendir(fd), ::closedir);
        if (!below) {
            ::close(fd);
            ++failed;
            continue;
        }
        stack.push_back(std::move(below));
    }
    return failed;
}

namespace {

// Takes the trees `record` lists (NUL-separated) out of project `id`: a killed holder of
// the id left them there. Only inodes carrying `id` change, so a listed path that now
// names something else is left as it is.
void take_back_listed_trees(const std::string& record, std::uint32_t id) {
    std::string listed;
    try {
        listed = sys::read_file(record, 1 << 16);
    } catch (const Error&) {
        return;  // no record: its last holder ended cleanly, or never had a project
    }
    std::size_t start = 0;
    while (start < listed.size()) {
        std::size_t end = listed.find('\0', start);
        if (end == std::string::npos) end = listed.size();
        if (end > start) (void)clear_project(listed.substr(start, end - start), id);
        start = end + 1;
    }
}

}  // namespace

std::optional<ProjectQuota> ProjectQuota::apply(const std::vector<std::string>& dirs, std::uint32_t id,
                                                std::uint64_t bytes, std::uint64_t inodes, std::string& why_not,
                                                const std::string& record) {
    if (dirs.empty() || (!bytes && !inodes)) {
        why_not = "no budget or no tree of the run's own";
        return std::nullopt;
    }
    const ProjectQuotaSupport support = probe_project_quota(dirs.front());
    if (!support.available) {
        why_not = support.reason;
        return std::nullopt;
    }
    sys::UniqueFd fs = sys::open_fd(dirs.front(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, "opening the run's tree");
    // First no limits: ones a killed run of this id left would hold the directories'
    // own inodes back, and no live run holds the id (it is this run's lease).
    if_dqblk none{};
    none.dqb_valid = QIF_LIMITS;
    if (quotactl_fd(fs.get(), QCMD(Q_SETQUOTA, PRJQUOTA), id, &none) != 0) {
        why_not = project_quota_reason(errno);
        return std::nullopt;
    }
    if (!record.empty()) {
        take_back_listed_trees(record, id);
        std::string listed;
        for (const auto& dir : dirs) listed += dir + '\0';
        try {
            sys::write_file_atomic(record, listed, 0600);
        } catch (const Error& e) {
            why_not = std::string("recording the run's trees: ") + e.what();
            return std::nullopt;
        }
    }
    // From here on, its destructor takes the trees out of the project and lifts the limits.
    ProjectQuota quota(std::move(fs), id, none, dirs, record);
    for (const auto& dir : dirs) {
        sys::UniqueFd d = sys::open_fd(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, "opening the run's tree");
        fsxattr attr{};
        bool set = ::ioctl(d.get(), FS_IOC_FSGETXATTR, &attr) == 0;
        if (set) {
            attr.fsx_projid = id;
            attr.fsx_xflags |= FS_XFLAG_PROJINHERIT;
            set = ::ioctl(d.get(), FS_IOC_FSSETXATTR, &attr) == 0;
        }
        if (!set) {
            why_not = errno_name(errno) + ": giving " + dir + " project " + std::to_string(id);
            return std::nullopt;
        }
    }
    // Read after the directories joined the project (their own blocks and inodes moved
    // into it then), so that the budget is all the run's.
    if_dqblk current{};
    if (quotactl_fd(quota.fs_.get(), QCMD(Q_GETQUOTA, PRJQUOTA), id, &current) != 0) {
        why_not = project_quota_reason(errno);
        return std::nullopt;
    }
    quota.limits_ = project_limits_for(current, bytes, inodes);
    if (quotactl_fd(quota.fs_.get(), QCMD(Q_SETQUOTA, PRJQUOTA), id, &quota.limits_) != 0) {
        why_not = project_quota_reason(errno);
        return std::nullopt;
    }
    return quota;
}

bool ProjectQuota::hit() const {
    if_dqblk now{};
    if (quotactl_fd(fs_.get(), QCMD(Q_GETQUOTA, PRJQUOTA), id_, &now) != 0) return false;
    const bool blocks = limits_.dqb_bhardlimit && now.dqb_curspace + 4096 >= limits_.dqb_bhardlimit * kQuotaBlock;
    const bool files = limits_.dqb_ihardlimit && now.dqb_curinodes >= limits_.dqb_ihardlimit;
    return blocks || files;
}

ProjectQuota::~ProjectQuota() {
    if (!fs_) return;
    std::uint64_t kept = 0;
    for (const auto& dir : dirs_) kept += clear_project(dir, id_);
    if (kept)
        std::fprintf(stderr, "aurora-jail: %llu files of the run's trees (%s) keep project %u\n",
                     static_cast<unsigned long long>(kept), dirs_.front().c_str(), id_);
    // Kept: the next holder of the id tries again.
    else if (!record_.empty() && ::unlink(record_.c_str()) != 0 && errno != ENOENT)
        std::fprintf(stderr, "aurora-jail: removing %s: %s\n", record_.c_str(), errno_name(errno).c_str());
    if_dqblk none{};
    none.dqb_valid = QIF_LIMITS;
    (void)quotactl_fd(fs_.get(), QCMD(Q_SETQUOTA, PRJQUOTA), id_, &none);
}

}  // namespace aj::helper
