// Project quotas: the strongest disk budget a host can give, where the file system of a
// run's private writable space has them enabled (ext4 with the "project" feature mounted
// with prjquota, XFS with pquota). A directory whose files carry one project id (inherited
// by everything created below it) is then bounded by the kernel itself, with no overshoot:
// a write past the limit fails with EDQUOT.
//
// Setting a project id and its limits needs CAP_SYS_ADMIN in the initial user namespace
// (so only a root caller's runs get them), and only trees made for the run may be given
// one: a plugin run's overlay upper and work directories (overlayfs renames copy-ups from
// work into upper, which the kernel refuses across projects). A user's --workdir or an
// `rw` path already holds files of other projects. The project id is the run's leased
// host uid (helper/id_pool.hpp): unique among live runs. The limits are what the project
// holds already (files an earlier run of that uid left behind) plus the budget.
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

class ProjectQuota {
public:
    // Gives the empty directories `dirs` project `id` (inherited by what is created below
    // them) and limits for `bytes`/`inodes` more. Nothing when the file system of
    // dirs.front() has no project quotas or this process may not set them: `why_not`
    // then says why.
    static std::optional<ProjectQuota> apply(const std::vector<std::string>& dirs, std::uint32_t id,
                                             std::uint64_t bytes, std::uint64_t inodes, std::string& why_not);
    // Whether the run reached a limit (its usage at the limit, less one block).
    bool hit() const;
    std::uint32_t id() const { return id_; }
    // The project's limits are removed (its files stay charged to it).
    ~ProjectQuota();
    ProjectQuota(ProjectQuota&&) = default;
    ProjectQuota& operator=(ProjectQuota&&) = delete;
    ProjectQuota(const ProjectQuota&) = delete;
    ProjectQuota& operator=(const ProjectQuota&) = delete;

private:
    ProjectQuota(sys::UniqueFd fs, std::uint32_t id, if_dqblk limits) : fs_(std::move(fs)), id_(id), limits_(limits) {}
    sys::UniqueFd fs_;  // a directory on the file system, for quotactl_fd
    std::uint32_t id_ = 0;
    if_dqblk limits_{};
};

}  // namespace aj::helper
