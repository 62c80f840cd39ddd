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
// With `memory_in_cgroup` max_memory_mb gets no RLIMIT_DATA (see plan_limits()).
std::vector<RlimitSetting> plan_rlimits(const policy::Policy& policy, RlimitScope scope,
                                        bool memory_in_cgroup = false);

// Child side: setrlimit for each entry; only ever lowers.
void apply_rlimits(const std::vector<RlimitSetting>& settings);

// rlimit-only mode's max_pids. RLIMIT_NPROC counts every task of the real uid host-wide,
// so the sandbox's limit is the tasks `uid` has now plus max_pids: the uid's other
// processes are never refused a fork because of it, and the sandbox gets max_pids tasks
// while their number stays the same. Approximate by nature (they come and go): the
// report gives both numbers. Runner side, before the fork (the command, not yet forked,
// is one of the max_pids); the setting is applied after the final uid switch.
struct NprocHeadroom {
    std::uint64_t uid_tasks = 0;  // tasks of `uid` on the host when the run started
    RlimitSetting setting;        // RLIMIT_NPROC = uid_tasks + max_pids (clamped)
};
NprocHeadroom plan_nproc_headroom(uid_t uid, std::uint64_t max_pids);

// Tasks (threads included: RLIMIT_NPROC counts them) on the host whose /proc entry
// belongs to `uid`: a walk of all of /proc.
std::uint64_t count_tasks_of(uid_t uid);

}  // namespace aj::helper
