// Totals without a cgroup. Where no cgroup is writable (an ordinary user on a cgroup v1
// host, many containers), rlimits bound each process, not the sandbox: three processes
// could each use the whole memory limit, and RLIMIT_CPU restarts with every fork. Here
// the sandbox's processes are found through /proc and their use summed, for a watch that
// kills the sandbox when a total is passed.
//
// The contract, and its limits (docs/policy.md, SECURITY.md repeat them):
// - The sandbox is every process below the runner (its first process's tree; in
//   rlimit-only mode also what was re-parented to the runner as subreaper), minus the
//   runner's own helpers named in `exclude`.
// - Memory is the sum of each process's Pss (/proc/PID/smaps_rollup): shared pages count
//   once, split among their users. Kernel memory the sandbox causes (socket buffers, page
//   tables, pipes) is in no process's Pss: not bounded this way.
// - CPU time is each process's utime+stime plus the times of the children it reaped
//   (cutime+cstime), so a process that exited and was waited for still counts. Children
//   reaped automatically (SIGCHLD ignored) take their times with them: those count only
//   while they live.
// - It is polled: the overshoot is what the sandbox can allocate or burn between polls.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <vector>

namespace aj::helper {

struct SandboxUsage {
    std::uint64_t memory_bytes = 0;  // summed Pss
    double cpu_sec = 0;              // summed utime+stime+cutime+cstime
    std::size_t processes = 0;       // how many were measured
};

// The parent of `pid` (/proc/PID/stat); -1 when it is gone.
pid_t parent_of(pid_t pid);

// The children of every thread of `pid` (/proc/PID/task/TID/children); empty when it is gone.
std::vector<pid_t> children_of(pid_t pid);

// Every process below `root` (not root itself), children of every thread followed,
// without the subtrees of `exclude`. Processes that end meanwhile are simply missing.
std::vector<pid_t> process_tree(pid_t root, const std::vector<pid_t>& exclude = {});

// The tasks (threads) of `pids` together, as RLIMIT_NPROC counts them (a zombie counts
// until reaped); a process gone meanwhile counts nothing.
std::uint64_t count_tasks(const std::vector<pid_t>& pids);

// Sums the use of `pids`; a process gone meanwhile counts nothing.
SandboxUsage measure_usage(const std::vector<pid_t>& pids);

// SIGKILLs each of `pids` (a process_tree(root)) except `spare`. Each is pinned with a
// pidfd and signalled only if its parent is still `root` or one of `pids`: a pid that
// ended and was reused by an unrelated process meanwhile is left alone.
std::size_t kill_tree(pid_t root, const std::vector<pid_t>& pids, pid_t spare);

}  // namespace aj::helper
