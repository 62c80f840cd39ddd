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
    // rlimit-only mode's max_pids, approximately (its setting is in `rlimits` too).
    std::optional<NprocHeadroom> nproc_headroom;
    std::optional<std::uint64_t> timeout_sec;  // the effective_timeout()
};

// The wall-clock limit a run enforces: the caller's (`run --timeout`) when given, else the
// policy's timeout_sec; none when neither sets one.
std::optional<std::uint64_t> effective_timeout(const policy::Policy& policy,
                                               std::optional<std::uint64_t> requested);

// The limit a queued request runs under: the request may shorten the policy's wall-clock
// limit, never extend it (whoever can write the queue is not whoever wrote the policy).
std::uint64_t queued_request_timeout(const policy::Policy& policy, std::uint64_t requested);

// `memory_in_cgroup`: the sandbox's cgroup enforces max_memory_mb. RLIMIT_DATA, the
// per-process backstop under the accounting total otherwise, is then left out: the hog
// must meet the cgroup's OOM killer, which the report can name, rather than a malloc
// failure it cannot. `nproc_uid`: in rlimit-only mode, the uid whose host-wide task count
// RLIMIT_NPROC's headroom starts from (the command's, after any switch to 65534).
LimitsPlan plan_limits(const policy::Policy& policy, RlimitScope scope,
                       std::optional<std::uint64_t> requested_timeout, bool memory_in_cgroup,
                       uid_t nproc_uid = 0);

}  // namespace aj::helper
