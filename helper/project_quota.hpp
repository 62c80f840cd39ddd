// Project quotas: the strongest disk budget a host can give, where the file system of a
// run's private writable space has them enabled (ext4 with the "project" feature mounted
// with prjquota, XFS with pquota). A directory whose files carry one project id (inherited
// by everything created below it) is then bounded by the kernel itself, with no overshoot.
//
// Setting a project id and its limits needs CAP_SYS_ADMIN in the initial user namespace,
// and only a tree made for the run (the plugin run directory) may be given one: a
// user's --workdir already holds files of other projects. Hosts without them (this one:
// ext4 without the feature) get the disk budget by accounting (helper/disk_budget.hpp);
// the report says which, and why the stronger one was not used.
#pragma once

#include <string>

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

}  // namespace aj::helper
