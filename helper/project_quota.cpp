#include "helper/project_quota.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "policy/error.hpp"

namespace aj::helper {
namespace {

constexpr std::uint64_t kQuotaBlock = 1024;  // if_dqblk's block limits are in KiB

long quotactl_fd(int fd, int cmd, std::uint32_t id, void* addr) {
    return ::syscall(SYS_quotactl_fd, fd, cmd, id, addr);
}

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

std::optional<ProjectQuota> ProjectQuota::apply(const std::vector<std::string>& dirs, std::uint32_t id,
                                                std::uint64_t bytes, std::uint64_t inodes, std::string& why_not) {
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
    if_dqblk current{};
    if (quotactl_fd(fs.get(), QCMD(Q_GETQUOTA, PRJQUOTA), id, &current) != 0) {
        why_not = project_quota_reason(errno);
        return std::nullopt;
    }
    if_dqblk limits = project_limits_for(current, bytes, inodes);
    if (quotactl_fd(fs.get(), QCMD(Q_SETQUOTA, PRJQUOTA), id, &limits) != 0) {
        why_not = project_quota_reason(errno);
        return std::nullopt;
    }
    ProjectQuota quota(std::move(fs), id, limits);  // from here on, its destructor lifts the limits
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
    if_dqblk none{};
    none.dqb_valid = QIF_LIMITS;
    (void)quotactl_fd(fs_.get(), QCMD(Q_SETQUOTA, PRJQUOTA), id_, &none);
}

}  // namespace aj::helper
