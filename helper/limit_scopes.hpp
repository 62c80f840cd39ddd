// How a run on this host, by the calling user, would hold each limit of a policy: as a
// total of the whole sandbox, per process, approximately, or not at all, and by which
// mechanism. `aurora-jail check` prints it, limit by limit; a run's report says the same
// of what that run did (limits.*.backend and scope).
#pragma once

#include <string>
#include <vector>

#include "helper/host_features.hpp"

namespace aj::helper {

struct LimitScope {
    std::string key;        // the policy key, "max_memory_mb"
    std::string scope;      // "total", "per process", "approximate", "not enforced"
    std::string mechanism;  // "cgroup-v1", "accounting", "rlimit", ...
    std::string note;       // what the scope leaves out, or why
};

std::vector<LimitScope> limit_scopes(const HostFeatures& host);

}  // namespace aj::helper
