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

// Where the limited process lives, which decides whether RLIMIT_NPROC can carry max_pids.
enum class RlimitScope {
    // The sandbox has a user namespace of its own. Since Linux 5.14 RLIMIT_NPROC is counted
    // per (user namespace, uid), so it bounds exactly the sandbox's processes: a fork-bomb
    // cap that needs no cgroup.
    OwnUserNamespace,
    // rlimit-only mode: RLIMIT_NPROC would count every process of the real uid across the
    // whole host (the caller's own uid, or host 65534 for a root caller), so it would depend
    // on, and limit, unrelated processes; max_pids is left to the pids cgroup there.
    HostUserNamespace,
};

// Runner side: the limits to apply, clamped to the current hard limits (nobody inside can
// raise a hard limit: CAP_SYS_RESOURCE in a user namespace does not count for rlimits).
// With `memory_in_cgroup` max_memory_mb gets no RLIMIT_AS (see plan_limits()).
std::vector<RlimitSetting> plan_rlimits(const policy::Policy& policy, RlimitScope scope,
                                        bool memory_in_cgroup = false);

// Child side: setrlimit for each entry; only ever lowers.
void apply_rlimits(const std::vector<RlimitSetting>& settings);

// rlimit-only mode's max_pids: RLIMIT_NPROC counts every task of the real uid host-wide,
// so the limit is set to (tasks this uid has now) + max_new_tasks. Only the sandbox gets
// the lowered limit; other processes of the uid are never refused a fork because of it.
// Approximate by nature (the uid's other processes come and go): reported as such.
// Call after the final uid switch. Returns the limit set.
rlim_t apply_nproc_headroom(std::uint64_t max_new_tasks);

}  // namespace aj::helper
