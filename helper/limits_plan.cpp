#include "helper/limits_plan.hpp"

#include <algorithm>

namespace aj::helper {

std::optional<std::uint64_t> effective_timeout(const policy::Policy& policy,
                                               std::optional<std::uint64_t> requested) {
    return requested ? requested : policy.limits.timeout_sec;
}

std::uint64_t queued_request_timeout(const policy::Policy& policy, std::uint64_t requested) {
    return policy.limits.timeout_sec ? std::min(requested, *policy.limits.timeout_sec) : requested;
}

LimitsPlan plan_limits(const policy::Policy& policy, RlimitScope scope,
                       std::optional<std::uint64_t> requested_timeout, bool memory_in_cgroup,
                       uid_t nproc_uid) {
    LimitsPlan plan;
    plan.rlimits = plan_rlimits(policy, scope, memory_in_cgroup);
    if (scope == RlimitScope::HostUserNamespace && policy.limits.pids) {
        plan.nproc_headroom = plan_nproc_headroom(nproc_uid, *policy.limits.pids);
        plan.rlimits.push_back(plan.nproc_headroom->setting);
    }
    plan.timeout_sec = effective_timeout(policy, requested_timeout);
    return plan;
}

}  // namespace aj::helper
