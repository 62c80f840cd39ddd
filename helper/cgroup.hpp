// One cgroup per sandbox, in whichever hierarchies this host gives the caller: v2 first
// (beneath a delegated parent), v1 (memory, cpu, cpuacct, pids) for the controllers v2
// does not have. The handle owns the directories: destruction kills what is left in them
// and removes them. Nothing here ever creates a cgroup outside the caller's own cgroup
// (or a configured, delegated v2 parent).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "helper/cgroup_discovery.hpp"
#include "policy/sys.hpp"
#include "policy/policy.hpp"

namespace aj::helper {

// Which mechanism enforces one limit (the run report's "limits" entries).
enum class LimitBackend { CgroupV2, CgroupV1, Rlimit, None };
const char* backend_name(LimitBackend backend);  // "cgroup-v2", "cgroup-v1", "rlimit", "none"

struct CgroupRequest {
    std::optional<std::uint64_t> memory_bytes;  // memory.max / memory.limit_in_bytes (+ swap)
    std::optional<double> cpus;                 // bandwidth in cores: cpu.max / cfs quota
    std::optional<std::uint64_t> pids;          // pids.max
    // A delegated cgroup2 directory to create sandboxes beneath instead of our own cgroup
    // (for callers that live in a cgroup they may not subdivide). Must lie inside a
    // cgroup2 mount and must not be its root unless we live at the root ourselves.
    std::optional<std::string> v2_parent;
};

// From the policy's limits; v2_parent from $AURORA_JAIL_CGROUP_PARENT when set.
CgroupRequest cgroup_request_for(const policy::Policy& policy);

struct CgroupStats {
    std::optional<std::uint64_t> memory_peak_bytes;
    std::optional<std::uint64_t> oom_kills;
    std::optional<double> cpu_sec;
    // pids.events "max": forks and clones the pids limit refused.
    std::optional<std::uint64_t> pids_refused;
    // pids.peak: the most processes and threads at once (kernels since 6.1).
    std::optional<std::uint64_t> pids_peak;
    // CFS bandwidth periods in which max_cpus held the sandbox back (cpu.stat nr_throttled,
    // v1 and v2): proof that cpu.max bit, where CPU seconds against wall time can only
    // suggest it (a starved VM charges its descheduled time to the running task).
    std::optional<std::uint64_t> cpu_throttled_periods;
};

class Cgroup {
public:
    // Discovers the hierarchies, sweeps stale sandbox cgroups of dead aurora-jail
    // processes, creates aurora-jail-<pid>-<random> where it can and writes the limits.
    // On a cgroup v2 host where our own cgroup gives no memory controller, asks systemd
    // for a delegated scope first (helper/systemd_scope.hpp) and creates it beneath that.
    // A hierarchy we may not write is not an error (see backend() and notes()); an
    // unexpected failure after a directory was created is (and the directory is removed).
    static Cgroup create(const CgroupRequest& request);
    static Cgroup create(const CgroupRequest& request, const std::vector<CgroupHierarchy>& hierarchies);

    Cgroup(Cgroup&& other) noexcept = default;
    Cgroup& operator=(Cgroup&&) = delete;
    Cgroup(const Cgroup&) = delete;
    Cgroup& operator=(const Cgroup&) = delete;
    // remove(); a failure is printed as one "aurora-jail: warning:" line (a destructor
    // cannot throw) and the directory is left for the next start's stale sweep.
    ~Cgroup();

    // An fd on the v2 directory for clone3(CLONE_INTO_CGROUP), or -1 without one.
    int v2_fd() const;
    // Puts pid (and its threads) into every directory of this sandbox. Called by the
    // parent while the child is still held on the sync pipe, so the command never runs
    // outside its limits. Idempotent (a pid already placed by clone3 stays where it is).
    void add_process(pid_t pid) const;

    // Total CPU time of everything that ever ran in the cgroup (threads and children
    // included, unlike RLIMIT_CPU); nullopt without cpu accounting.
    std::optional<double> cpu_seconds() const;
    // The CPU bandwidth cap as the kernel holds it, "QUOTA PERIOD" in microseconds (v2
    // cpu.max; v1 cpu.cfs_quota_us and cpu.cfs_period_us); nullopt without a cpu cgroup.
    std::optional<std::string> cpu_max() const;
    CgroupStats stats() const;

    enum class Limit { Memory, Cpus, Pids, CpuTime };
    // cgroup-v2/cgroup-v1 when a directory of ours enforces (or, for CpuTime, measures)
    // it; None otherwise: the caller then falls back to rlimits.
    LimitBackend backend(Limit limit) const;
    // backend_name(backend(limit)), naming the systemd scope a v2 cgroup lives in when
    // one was asked for: "cgroup-v2 (systemd scope aurora-jail-PID-HEX.scope)".
    std::string mechanism(Limit limit) const;
    // The transient systemd scope (Delegate=yes) this process was moved into because its
    // own cgroup gave no memory controller; empty when none was needed or to be had.
    const std::string& systemd_scope() const { return systemd_scope_; }
    // Why a hierarchy or limit was not used, one line each ("cgroup v1 memory: mkdir
    // /sys/...: EACCES (...)"), for `check` and the run's warnings.
    const std::vector<std::string>& notes() const { return notes_; }
    std::vector<std::string> directories() const;
    // memory.oom.group is set: the OOM killer ends every process of the sandbox at once.
    bool oom_group() const { return oom_group_; }
    nlohmann::json describe() const;

    // Kills every process in the sandbox cgroups.
    void kill_all() const;
    // Kills, waits until empty, removes every directory (bounded). Idempotent; throws
    // naming the directory that could not be removed.
    void remove();

private:
    struct Node {
        CgroupVersion version;
        std::set<std::string> controllers;  // the ones we use in this directory
        std::string dir;
        sys::UniqueFd fd;
    };
    Cgroup() = default;
    static bool wants_systemd_scope(const CgroupRequest& request, const std::vector<CgroupHierarchy>& hierarchies,
                                    const Cgroup& made);
    const Node* node_with(const std::string& controller) const;
    void create_v2(const CgroupRequest& request, const CgroupHierarchy& h, const std::string& name);
    void create_v1(const CgroupRequest& request, const CgroupHierarchy& h, const std::string& name,
                   const std::set<std::string>& wanted);
    // Makes the sandbox directory `dir` and records it; returns its fd, or -1 with a note
    // ("WHAT: creating DIR: ...") when the hierarchy is not ours to use.
    int add_node(CgroupVersion version, const std::set<std::string>& controllers, const std::string& dir,
                 const std::string& what);

    std::vector<Node> nodes_;
    std::vector<std::string> notes_;
    bool oom_group_ = false;
    std::string systemd_scope_;
};

// What offer_own_cgroup_to_children() did: the parent its children will use, or why none.
struct CgroupOffer {
    std::string parent;
    std::string why_not;
};

// For a long-lived process whose children are runs (the host daemon): on a pure cgroup v2
// host where this process is alone in a cgroup it may write (a unit with Delegate=yes),
// moves it into a leaf of that cgroup (aurora-jail-PID-supervisor) and sets
// $AURORA_JAIL_CGROUP_PARENT to the cgroup, now without members, so that each run creates
// its sandbox cgroup there (a cgroup with members may not enable controllers for its
// children). A deployer's $AURORA_JAIL_CGROUP_PARENT is left as it is.
CgroupOffer offer_own_cgroup_to_children();

// Name prefix of every sandbox cgroup: aurora-jail-<pid>-<random>.
inline constexpr const char* kCgroupPrefix = "aurora-jail-";

// Removes aurora-jail-<pid>-* directories beneath parent_dir whose <pid> is dead, or
// alive but started after the directory was made (a reused pid). Returns what it removed;
// failures become notes.
std::vector<std::string> sweep_stale_cgroups(const std::string& parent_dir,
                                             std::vector<std::string>& notes);

}  // namespace aj::helper
