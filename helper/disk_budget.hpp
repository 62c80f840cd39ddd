// The disk budget: what one run may add to host file systems (max_disk_mb bytes allocated,
// max_files inodes created) through every writable place the policy grants: --workdir,
// `rw` allowed paths, the plugin run directory (its work/ or the overlay upper of /work)
// and, for a --detach run, the logs the runner writes for it.
//
// The contract, and its limits (docs/policy.md "Disk budget", SECURITY.md repeat them):
// - Measured, like Kubernetes' ephemeral-storage eviction: the writable trees are walked
//   (st_blocks of every inode, each inode once, symlinks not followed, other file systems
//   not entered) and compared with the same walk made before the command started. Growth
//   past a limit kills the sandbox, with "disk budget" named on stderr and the report's
//   "hit" set. Blocks the file system has only reserved (ext4's delayed allocation) are in
//   st_blocks already, so page-cache writes count before they reach the disk.
// - Files the sandbox unlinked but holds open are found through its processes' /proc/PID/fd
//   and count too; one unlinked, closed and only still mapped is not seen (documented).
// - Polled: the overshoot is what the sandbox writes between two walks. Walks are spaced
//   so that they take at most a fifth of one core (a tree that takes 10 ms to walk is
//   walked every 50 ms, one that takes 100 ms every 500 ms).
// - A directory the walk cannot open that it could open before the run (the sandbox made
//   it unreadable to hide what is below) counts as over budget: unmeasurable is not free.
//   Directories unreadable already at the start are skipped and named in the report.
//   Likewise a sandbox process whose open files the runner may not list in two walks in
//   a row.
// - fallocate(FALLOC_FL_KEEP_SIZE) is refused by seccomp in every mode
//   (policy/fallocate_rules.hpp), so a file's size bounds what it allocates
//   (max_file_size_mb, RLIMIT_FSIZE).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "helper/project_quota.hpp"
#include "helper/report_enforced.hpp"
#include "policy/policy.hpp"

namespace aj::helper {

struct LaunchRequest;

struct DiskUsage {
    std::uint64_t bytes = 0;   // st_blocks * 512
    std::uint64_t inodes = 0;
};

// One walk over the writable trees.
struct DiskWalk {
    DiskUsage usage;
    std::set<std::pair<dev_t, ino_t>> seen;  // every inode counted (hard links once)
    std::set<dev_t> devices;                 // the file systems the roots are on
    std::vector<std::string> unreadable;     // directories that could not be opened
};

// Walks `roots` (absolute host paths; a missing one counts nothing).
DiskWalk walk_trees(const std::vector<std::string>& roots);

// Regular files on `devices` that `pids` hold open and that have no name any more
// (st_nlink 0), not already in `seen`: what a sandbox writes after unlinking a file.
// A live process whose descriptors the runner may not list (one that made itself not
// dumpable, for an ordinary caller's runner in either mode) goes into `hidden`.
DiskUsage unlinked_open_files(const std::vector<pid_t>& pids, const std::set<dev_t>& devices,
                              const std::set<std::pair<dev_t, ino_t>>& seen, std::vector<pid_t>* hidden = nullptr);

// The host paths a launch lets the sandbox write: the workdir, the policy's rw paths,
// rw extra binds, a container root the sandbox writes (ContainerLayout), and each
// overlay's upper directory. Not an overlay's work directory:
// only overlayfs writes there (copy-ups in passing, renamed into the upper directory at
// once), and it makes its work/ mode 000, which an unprivileged walk could not enter.
std::vector<std::string> writable_host_trees(const LaunchRequest& request);

class DiskBudget {
public:
    DiskBudget(const policy::Limits& limits, std::vector<std::string> roots);

    // The policy sets max_disk_mb or max_files.
    bool limited() const { return disk_bytes_ || files_; }
    // There is something to watch: limited, and a writable tree or counted output. Else
    // every call is a no-op, and no watch runs for the budget.
    bool active() const { return limited() && (!roots_.empty() || !fds_.empty() || output_counted_); }
    // The walk the run's growth is measured against; before the command starts.
    void start();
    // One poll: walks when the spacing allows (see above), measures the unlinked files
    // `pids` hold, and returns true when the run has passed a limit.
    bool poll(const std::vector<pid_t>& pids);
    // The relay counts the output it writes (StdioRelay::count_output).
    void count_relay_output() { output_counted_ = limited(); }
    // Bytes the runner wrote for the sandbox (a --detach run's logs): counted as growth.
    void add_output_bytes(std::uint64_t n) { output_bytes_ += n; }
    // How many more output bytes the budget allows (UINT64_MAX without max_disk_mb): the
    // log writer stops there, so its files never pass the budget even between polls.
    std::uint64_t output_allowance() const;
    // Regular files open as `fds` in the runner (a --detach --pass-stdio run's logs, which
    // the sandbox then writes itself): their growth from start() on counts.
    void count_open_files(std::vector<int> fds) {
        if (limited()) fds_ = std::move(fds);
    }
    // A root caller's plugin run on a file system with project quotas: its overlay upper
    // and work directories get a project of their own with the budget as limits
    // (helper/project_quota.hpp), lifted when this budget goes. Else the reason why not
    // goes into the report.
    void use_project_quota(const LaunchRequest& request);
    // The log writer reached output_allowance(): true the first time (say so once).
    bool note_output_cut() { return !output_cut_.exchange(true); }
    // A forked watch found the budget passed (its verdict byte).
    void mark_exceeded() { exceeded_ = true; }
    bool exceeded() const { return exceeded_; }
    // Once the watch has stopped: one last walk (a run shorter than the walk spacing, or
    // one watched by a forked process, is measured too: passing the budget before the
    // watch could stop it is still a hit), then limits.disk_mb and limits.files (value,
    // mechanism, scope, hit, the peaks) and one stderr line when the budget was passed.
    void finish(EnforcementRecord& enforced);

private:
    std::uint64_t disk_bytes_ = 0;  // 0: max_disk_mb not set
    std::uint64_t files_ = 0;       // 0: max_files not set
    std::vector<std::string> roots_;
    std::vector<int> fds_;
    bool output_counted_ = false;
    // Unlistable processes, since the first walk of the current unbroken series.
    std::map<pid_t, std::chrono::steady_clock::time_point> unlistable_since_;
    std::optional<ProjectQuota> quota_;
    std::string quota_note_;
    // The project's usage reached a limit at some poll: a file unlinked and closed since
    // (or the run's whole tree removed) no longer shows it at the end. A limit reached
    // and released again within one poll interval is not seen (the writer got EDQUOT).
    std::atomic<bool> quota_hit_{false};
    std::uint64_t fds_baseline_ = 0;
    DiskUsage baseline_;
    std::set<std::string> unreadable_at_start_;
    std::string unmeasurable_;  // a directory made unreadable during the run
    std::atomic<std::uint64_t> output_bytes_{0};
    std::atomic<std::uint64_t> peak_bytes_{0}, peak_inodes_{0};
    std::atomic<bool> exceeded_{false};
    std::atomic<bool> output_cut_{false};
    bool over_at_end_ = false;  // passed, found only by the last walk
    std::chrono::steady_clock::time_point next_walk_{};
    std::uint64_t walks_ = 0;
    std::chrono::nanoseconds slowest_walk_{0};
};

class StdioRelay;
// With request.output_in_disk_budget: the relay counts the output it writes to the
// caller's stdout and stderr (or, with the caller's own fds given to the sandbox, their
// files' growth counts).
void count_output_in_budget(const LaunchRequest& request, StdioRelay& relay, DiskBudget& budget);

}  // namespace aj::helper
