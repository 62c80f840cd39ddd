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

// The policy's limits as plan_rlimits asks for them, before the clamp to the hard limits
// in force: a pure function of the policy (aurora-runc's ceiling for a config's
// process.rlimits, decided at create).
std::vector<RlimitSetting> policy_rlimits(const policy::Policy& policy, RlimitScope scope,
                                          bool memory_in_cgroup = false);

// Runner side: the limits to apply, clamped to the current hard limits (nobody inside can
// raise a hard limit: CAP_SYS_RESOURCE in a user namespace does not count for rlimits).
// With `memory_in_cgroup` max_memory_mb gets no RLIMIT_DATA (see plan_limits()).
std::vector<RlimitSetting> plan_rlimits(const policy::Policy& policy, RlimitScope scope,
                                        bool memory_in_cgroup = false);

// Child side: setrlimit for each entry; only ever lowers.
void apply_rlimits(const std::vector<RlimitSetting>& settings);

// A limit the caller asks for beyond the policy's (aurora-runc: an OCI config's
// process.rlimits), soft and hard as given, in the kernel's unit. It only ever lowers what
// is in force: the caller caps it by the policy's (cap_rlimit_request) and the child by
// the hard limit it finds (apply_requested_rlimits).
struct RlimitRequest {
    int resource = 0;  // RLIMIT_*
    std::string name;  // "RLIMIT_NOFILE", for messages
    rlim_t soft = 0, hard = 0;
    bool operator==(const RlimitRequest&) const = default;
};

// `request` under a ceiling: hard' = min(hard, ceiling_hard), soft' = min(soft,
// ceiling_soft, hard'). A ceiling's soft below its hard (RLIMIT_CPU's SIGXCPU second)
// stays the soft ceiling: a request never raises either.
RlimitRequest cap_rlimit_request(const RlimitRequest& request, rlim_t ceiling_soft, rlim_t ceiling_hard);

// Child side, after apply_rlimits and apply_quota_rlimits: each request capped by the
// hard limit now in force (the policy's, or the one inherited from the caller, which is
// only known here: capped without a word), then set. The soft limit may be raised up to
// that hard limit, as any process may raise its own.
void apply_requested_rlimits(const std::vector<RlimitRequest>& requests);

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
