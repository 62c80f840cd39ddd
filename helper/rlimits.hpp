// Resource limits from the policy, as one table walked by one loop.
#pragma once

#include <sys/resource.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "policy/policy.hpp"

namespace aj::helper {

struct RlimitSetting {
    int resource = 0;           // RLIMIT_*
    std::string name;           // the policy field ("memory_mb"), or "core" for the fixed 0
    std::uint64_t requested = 0;  // in the policy's unit
    rlim_t soft = 0, hard = 0;    // in the kernel's unit, already clamped
    bool clamped = false;         // the caller's hard limit was lower than the policy asked
};

// Runner side: the limits to apply, clamped to the current hard limits (nobody inside can
// raise a hard limit: CAP_SYS_RESOURCE in a user namespace does not count for rlimits).
// RLIMIT_NPROC is deliberately absent: it counts every process of the real uid across the
// whole host (the caller's own uid, or host 65534 for a root caller), so it would depend on
// unrelated processes and limit them; max_pids belongs to the pids cgroup.
std::vector<RlimitSetting> plan_rlimits(const policy::Policy& policy);

// Child side: setrlimit for each entry; only ever lowers.
void apply_rlimits(const std::vector<RlimitSetting>& settings);

}  // namespace aj::helper
