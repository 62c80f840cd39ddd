// The cgroup side of one launch, in the order the recipe needs it: create before the
// clone, place the child before it may fork, watch total CPU time while it runs,
// then statistics into the report and removal.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "helper/cgroup.hpp"
#include "helper/death_watch.hpp"
#include "helper/disk_budget.hpp"
#include "helper/report_enforced.hpp"
#include "policy/policy.hpp"

namespace aj::helper {

// Why a launch wants a cgroup.
enum class CgroupUse {
    // Only for the policy's limits: namespaces mode, where the pid namespace already ends
    // every process of the sandbox when its PID 1 exits.
    LimitsOnly,
    // Also to find and kill what the command left running (rlimit-only mode has no pid
    // namespace to do it).
    LimitsAndCleanup,
};

class SandboxCgroup {
public:
    // Creates the cgroup for the policy's limits. With CgroupUse::LimitsOnly, none when
    // the policy sets no limit a cgroup enforces (memory, cpus, pids, cpu time): the run
    // then skips the cgroup's cost (on cgroup v1, moving a process waits out an RCU grace
    // period, 10-18 ms here). Where no cgroup carries max_memory_mb or max_cpu_sec, the
    // watch holds them as totals by accounting (helper/accounting.hpp).
    SandboxCgroup(const policy::Policy& policy, CgroupUse use);
    ~SandboxCgroup();  // stops the watch; the Cgroup removes itself
    SandboxCgroup(const SandboxCgroup&) = delete;
    SandboxCgroup& operator=(const SandboxCgroup&) = delete;

    // Whether a cgroup exists for this launch (and so must be emptied before removal).
    bool exists() const { return cgroup_.has_value(); }
    // The OOM killer ended every process of the sandbox at once (memory.oom.group), its
    // PID 1 included, which could then report nothing: the command's end, not a failure.
    bool oom_killed_whole_sandbox() const;
    // Whether the cgroup enforces the policy's max_memory_mb (plan_limits() needs to know).
    bool enforces_memory() const;
    // Which mechanism enforces `limit` for this launch (None without a cgroup).
    LimitBackend backend(Cgroup::Limit limit) const {
        return cgroup_ ? cgroup_->backend(limit) : LimitBackend::None;
    }
    // For a caller that forbids degrading (allow_fallback: false, --require-isolation):
    // throws aj::Error (exit 125) naming each limit no cgroup holds as a total here and
    // how to get a cgroup. Call before anything runs.
    void refuse_unbounded_limits() const;
    // A cgroup2 directory fd for clone3(CLONE_INTO_CGROUP) when that one directory holds
    // the whole sandbox cgroup (a pure v2 host), else -1: v1 hierarchies need a move.
    int clone_into_fd() const;
    // The child was born in the cgroup (clone3 succeeded): place() has nothing to do.
    void mark_placed_by_clone() { placed_by_clone_ = true; }
    // Parent side, before the child may fork: from here on it and all it forks are inside.
    void place(pid_t child) const;
    // Totals over the whole sandbox (threads and children included, which rlimits miss):
    // max_cpu_sec from the cgroup's usage, or, without a cgroup for them, max_cpu_sec and
    // max_memory_mb by accounting. A thread polls and, past a limit, SIGKILLs every
    // process of the sandbox except `spare` (the sandbox's PID 1, which then reports the
    // kill). Where no thread can be made (a seccomp profile answering EPERM for clone3, so
    // the C library does not fall back to clone), a forked process watches instead.
    // The disk budget (helper/disk_budget.hpp) is polled by the same watch, its kill the
    // same; call before watch_limits(). `budget` outlives this object's watch.
    void watch_disk(DiskBudget& budget) { disk_ = budget.active() ? &budget : nullptr; }
    // max_pids where no pids cgroup holds it, only RLIMIT_NPROC (`nproc`, as set): the
    // watch counts the sandbox's tasks and, once they reach `nproc`, the limit is named
    // as hit (the next fork or thread was, or would have been, refused). Namespaces mode
    // (`host_uid` empty) counts PID 1's tree, which is what RLIMIT_NPROC counts in the
    // sandbox's own user namespace; rlimit-only mode counts every task of `host_uid` on
    // the host, as the kernel does. Call before watch_limits().
    void watch_pids(std::uint64_t nproc, std::optional<uid_t> host_uid);
    void watch_limits(pid_t spare);
    // Stops the watch, adds backends and statistics to `enforced` (limits.*.backend, a
    // "cgroup" object, an "accounting" one), prints one stderr line when the OOM killer
    // or the watch ended the command (and, at every run that accounts memory, that kernel
    // memory is not enforced), kills what is left and removes the cgroup. Deferred: the
    // removal is left to this object's destructor (the cgroup must be empty by then: a
    // namespaces-mode launch whose PID 1 is reaped), so that its caller can answer for
    // the run first (helper/launch.hpp, LaunchResult::teardown).
    enum class Removal { Now, Deferred };
    void finish(EnforcementRecord& enforced, Removal removal = Removal::Now);

private:
    void stop_watch();
    // What a poll found past its limit, as bits (also the forked watch's message).
    // kPids and the deaths are only seen: no kill follows them.
    enum Exceeded : unsigned {
        kCpuTime = 1,
        kMemory = 2,
        kDisk = 4,
        kPids = 8,          // the sandbox's tasks reached RLIMIT_NPROC
        kDiedOfXcpu = 16,   // a process of it was killed by SIGXCPU
        kDiedOfXfsz = 32,   // ... by SIGXFSZ
    };
    static constexpr unsigned kKilling = kCpuTime | kMemory | kDisk;
    // One poll of the watch: measures and, past a limit, kills every process of the
    // sandbox (below `runner`, without `exclude`) but `spare`. Returns Exceeded bits.
    unsigned poll_limits(pid_t spare, pid_t runner, pid_t exclude);
    void note_exceeded(unsigned over);
    void fork_watch_process(pid_t spare, pid_t runner);
    void report_accounting(EnforcementRecord& enforced) const;
    // Whether the sandbox's tasks reached RLIMIT_NPROC at this poll (watch_pids()).
    bool pids_reached(pid_t spare, const std::vector<pid_t>& runner_tree);
    // What the watch saw without killing: max_pids reached, processes killed by SIGXCPU
    // or SIGXFSZ (for note_limits_hit_by_end()).
    void report_seen(EnforcementRecord& enforced);

    const policy::Policy& policy_;
    std::optional<Cgroup> cgroup_;
    std::thread watch_;
    // The watch sleeps on this between polls, so stopping it is immediate: a plain sleep
    // made every run wait out up to one poll interval (50 ms) at the end.
    std::mutex stop_mutex_;
    std::condition_variable stop_cv_;
    bool stop_ = false;  // guarded by stop_mutex_
    std::atomic<bool> cpu_exceeded_{false};
    std::atomic<bool> memory_exceeded_{false};
    bool account_memory_ = false;  // max_memory_mb as a total by accounting (no memory cgroup)
    bool account_cpu_ = false;     // max_cpu_sec likewise (no cgroup CPU accounting)
    std::atomic<std::uint64_t> memory_peak_{0};  // accounting's largest sum seen
    std::atomic<std::uint64_t> cpu_used_ms_{0};
    bool watch_forked_ = false;
    pid_t watch_pid_ = -1;          // the watch process, when it is one
    sys::UniqueFd watch_verdict_;   // its pipe: one byte once the limit was passed
    sys::UniqueFd watch_stop_;      // closing it ends the forked watch
    bool placed_by_clone_ = false;
    DiskBudget* disk_ = nullptr;
    std::optional<std::uint64_t> nproc_;  // watch_pids()
    std::optional<uid_t> nproc_host_uid_;
    std::atomic<bool> pids_reached_{false};
    std::atomic<std::uint64_t> tasks_peak_{0};  // the largest count seen
    // The death causes of the sandbox's processes (max_cpu_sec, max_file_size_mb set).
    std::optional<DeathWatch> deaths_;
    std::atomic<unsigned> deaths_seen_{0};  // kDiedOf* bits, from either kind of watch
    unsigned polls_ = 0;  // the watch's (thread's or forked process's) count of its polls
};

}  // namespace aj::helper
