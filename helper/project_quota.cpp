#include "helper/project_quota.hpp"

#include <fcntl.h>
#include <linux/quota.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "policy/error.hpp"
#include "policy/sys.hpp"

namespace aj::helper {

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
    const long rc = ::syscall(SYS_quotactl_fd, held.get(), QCMD(Q_GETINFO, PRJQUOTA), 0, &info);
    if (rc == 0) return {true, ""};
    return {false, project_quota_reason(errno)};
}

}  // namespace aj::helper
