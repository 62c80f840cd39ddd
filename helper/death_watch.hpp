// How the sandbox's processes died, not only its command. RLIMIT_CPU and RLIMIT_FSIZE
// hold per process: the one that passes them dies of SIGXCPU or SIGXFSZ, and only its
// parent (often a shell, which goes on and exits 0) learns why. Without ptrace, a pidfd
// taken while the process lives keeps its exit status once its parent has reaped it
// (PIDFD_GET_INFO with PIDFD_INFO_EXIT, Linux 6.15): the limits watch pins each process
// it finds and, when one is gone, asks how it ended.
//
// What it cannot see (docs/policy.md, "limits hit"): a process that starts and ends
// between two polls of the watch (never pinned); beyond kMaxPinned processes at once
// (or a quarter of the runner's RLIMIT_NOFILE);
// a kernel before 6.15 (the first reaped process shows it: nothing is pinned from then on).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "policy/sys.hpp"

namespace aj::helper {

class DeathWatch {
public:
    // Processes pinned at once at most: each holds one descriptor of the runner, which
    // keeps three quarters of its RLIMIT_NOFILE for everything else (the watch's own
    // reads of /proc among them: a sandbox of many processes must not starve them).
    static constexpr std::size_t kMaxPinned = 512;

    // The first process seen killed by one signal.
    struct Death {
        int signal = 0;
        std::string command;  // its /proc comm at its last poll; empty: not read
    };

    // Pins each of `pids` not yet pinned whose parent is `root` or one of `pids` (a pid
    // reused by an unrelated process meanwhile is left alone), then collect().
    void poll(pid_t root, const std::vector<pid_t>& pids);
    // For each pinned process: its command name while it lives; once reaped, whether a
    // signal of `signals_` killed it (the first such death per signal is kept), and the
    // pin is dropped.
    void collect();

    // Only deaths by these signals are kept (SIGXCPU, SIGXFSZ).
    explicit DeathWatch(std::vector<int> signals);

    const std::map<int, Death>& deaths() const { return deaths_; }
    // False once a reaped process showed no exit status (a kernel before 6.15).
    bool works() const { return works_; }

private:
    struct Pinned {
        sys::UniqueFd pidfd;
        std::string command;
    };
    std::vector<int> signals_;
    std::size_t max_pinned_ = kMaxPinned;
    std::map<pid_t, Pinned> pinned_;
    std::map<int, Death> deaths_;
    bool works_ = true;
};

}  // namespace aj::helper
