// Project quotas: the strongest disk budget a host can give, where the file system of a
// run's private writable space has them enabled (ext4 with the "project" feature mounted
// with prjquota, XFS with pquota). A directory whose files carry one project id (inherited
// by everything created below it) is then bounded by the kernel itself, with no overshoot:
// a write past the limit fails with EDQUOT.
//
// Setting a project id and its limits needs CAP_SYS_ADMIN in the initial user namespace
// (so only a root caller's runs get them), and only trees made for the run may be given
// one: a plugin run's overlay upper and work directories (overlayfs renames copy-ups from
// work into upper, which the kernel refuses across projects), or a --workdir that is empty
// when the run starts. A non-empty --workdir or an `rw` path holds files of other projects
// (which the project would not bound). The project id is the run's leased host uid
// (helper/id_pool.hpp): unique among live runs. The limits are what the project holds
// already (files a killed run of that uid left behind) plus the budget.
//
// When the run is over, every directory and regular file of the trees that carries the
// project goes back to project 0 without PROJINHERIT (so the tree is the caller's again,
// and later writes to it count against no run), then the limits are lifted. A runner
// killed before that leaves both, and a record of the trees beside the id's lease
// (kLockDir/ID.trees, root-only): the id is free again with its lease, and the next run
// leasing it (no live run has it then) takes those trees out of the project first, then
// sets limits of its own.
//
// A sandbox cannot move its files out of the project: inside a user namespace the kernel
// refuses to change a project id or PROJINHERIT (EINVAL); without one (the rlimit-only
// fallback, where the sandbox owns its files in the initial namespace) the default policy's
// seccomp filter refuses FS_IOC_FSSETXATTR and FS_IOC_SETFLAGS (policy/default_deny.cpp).
//
// Hosts without them (this one: ext4 without the feature) hold the budget by accounting
// alone (helper/disk_budget.hpp); every report says which, and why.
#pragma once

#include <linux/quota.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "policy/sys.hpp"

namespace aj::helper {

struct ProjectQuotaSupport {
    bool available = false;
    std::string reason;  // why not, when not: the errno name and what would enable them
};

// Whether the file system holding `dir` enforces project quotas now (quotactl_fd
// Q_GETINFO for PRJQUOTA, Linux 5.14+).
ProjectQuotaSupport probe_project_quota(const std::string& dir);

// The sentence for an errno from that probe.
std::string project_quota_reason(int err);

// The limits a project gets so that a run may add `bytes` and `inodes` to what it holds
// now (`current`, from Q_GETQUOTA); 0 (no limit) for a budget of 0.
if_dqblk project_limits_for(const if_dqblk& current, std::uint64_t bytes, std::uint64_t inodes);

// Project 0 and no PROJINHERIT for `root` and every directory and regular file below it
// (on its file system, never through a symlink) that carries project `id`; returns how
// many could not be (beyond kMaxClearDepth levels, or refused). Symlinks, fifos and
// sockets cannot be opened for the ioctl and keep the project (one inode each).
constexpr std::size_t kMaxClearDepth = 256;
std::uint64_t clear_project(const std::string& root, std::uint32_t id);

class ProjectQuota {
public:
    // Gives the empty directories `dirs` (all on one file system) project `id`, inherited by
    // what is created below them, and limits for `bytes`/`inodes` more. Nothing when that
    // file system has no project quotas or this process may not set them: `why_not` then
    // says why. `record` (a file only root may write; none when empty) lists the trees
    // while they are in the project: trees a killed holder of `id` left listed there are
    // taken out of it first.
    static std::optional<ProjectQuota> apply(const std::vector<std::string>& dirs, std::uint32_t id,
                                             std::uint64_t bytes, std::uint64_t inodes, std::string& why_not,
                                             const std::string& record = "");
    // Whether the run reached a limit (its usage at the limit, less one block).
    bool hit() const;
    std::uint32_t id() const { return id_; }
    // The trees' files leave the project (clear_project), then its limits are removed.
    ~ProjectQuota();
    ProjectQuota(ProjectQuota&&) = default;
    ProjectQuota& operator=(ProjectQuota&&) = delete;
    ProjectQuota(const ProjectQuota&) = delete;
    ProjectQuota& operator=(const ProjectQuota&) = delete;

private:
    ProjectQuota(sys::UniqueFd fs, std::uint32_t id, if_dqblk limits, std::vector<std::string> dirs,
                 std::string record)
        : fs_(std::move(fs)), id_(id), limits_(limits), dirs_(std::move(dirs)), record_(std::move(record)) {}
    sys::UniqueFd fs_;  // a directory on the file system, for quotactl_fd
    std::uint32_t id_ = 0;
    if_dqblk limits_{};
    std::vector<std::string> dirs_;
    std::string record_;
};

}  // namespace aj::helper
