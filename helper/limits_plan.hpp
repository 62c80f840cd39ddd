// Every limit of one run, decided once before anything starts (the mount plan's shape,
// for limits): the rlimits the command gets, rlimit-only mode's max_pids headroom and the
// wall-clock timeout the supervisor enforces. The cgroup's settings are
// cgroup_request_for(policy) (helper/cgroup.hpp); what the created cgroup really enforces
// is an input here, so nothing downstream edits the plan.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "helper/rlimits.hpp"
#include "policy/policy.hpp"

namespace aj::helper {

struct LimitsPlan {
    std::vector<RlimitSetting> rlimits;
    // rlimit-only mode's max_pids: apply_nproc_headroom() after the final uid switch.
    std::optional<std::uint64_t> nproc_headroom;
    std::optional<std::uint64_t> timeout_sec;  // the effective_timeout()
};

// The wall-clock limit a run enforces: the caller's (`run --timeout`) when given, else the
// policy's timeout_sec; none when neither sets one.
std::optional<std::uint64_t> effective_timeout(const policy::Policy& policy,
                                               std::optional<std::uint64_t> requested);

// The limit a queued request runs under: the request may shorten the policy's wall-clock
// limit, never extend it (whoever can write the queue is not whoever wrote the policy).
std::uint64_t queued_request_timeout(const policy::Policy& policy, std::uint64_t requested);

// `memory_in_cgroup`: the sandbox's cgroup enforces max_memory_mb. RLIMIT_AS is then left
// out: address space is not memory use (runtimes reserve far more than they touch), and
// the hog must meet the cgroup's OOM killer, which the report can name, rather than a
// malloc failure it cannot.
LimitsPlan plan_limits(const policy::Policy& policy, RlimitScope scope,
                       std::optional<std::uint64_t> requested_timeout, bool memory_in_cgroup);

}  // namespace aj::helper
