// Runner side, once the sandbox is released: forward signals, enforce the wall timeout,
// collect what the sandbox reports, reap PID 1 with its resource usage.
#pragma once

#include <signal.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "helper/channel.hpp"
#include "helper/launch.hpp"
#include "policy/sys.hpp"

namespace aj::helper {

class StdioRelay;
class CallSupervisor;

// Blocks a set of signals for its lifetime and exposes them as a signalfd; on destruction
// drains what is still pending (already forwarded or too late to matter) and restores the
// previous mask, so a late Ctrl-C cannot replace the command's exit status.
class BlockedSignals {
public:
    explicit BlockedSignals(const sigset_t& set);
    ~BlockedSignals();
    BlockedSignals(const BlockedSignals&) = delete;
    BlockedSignals& operator=(const BlockedSignals&) = delete;
    int fd() const { return fd_.get(); }

private:
    sigset_t old_{};
    sys::UniqueFd fd_;
};

struct SandboxOutcome {
    std::optional<int> command_status;  // wait status reported by PID 1
    std::optional<int> exec_errno;      // the command could not be executed
    std::string exec_command;
    std::optional<std::string> setup_error;  // "step: ENAME (...)" from inside
    bool timed_out = false;
    std::optional<InitSummary> summary;  // sent with the command's status
    int init_status = 0;  // PID 1's own wait status, once reaped
    rusage usage{};       // CPU time of the sandbox: PID 1's summary, else its wait4
};

// Returns once PID 1 has been reaped, or, with `until_over`, as soon as PID 1 reports the
// command's status with every other process of the sandbox already dead and reaped
// (PID 1 is then exiting; it is reaped when this process exits). Waiting out PID 1's own
// exit (its mount and network namespaces' teardown) was ~0.7 ms of every run; callers
// that must empty a cgroup afterwards pass false. `report` is the read end of the report
// channel; its EOF means nobody inside can speak any more. `relay` (helper/stdio_relay.hpp),
// when given, moves the sandbox's stdio meanwhile; the caller drains it (finish()) once
// nothing of the sandbox is left to write. `calls`, when given, adopts the seccomp listener
// the report channel brings and answers the calls it delivers (seccomp_listener.hpp).
SandboxOutcome supervise(pid_t init, sys::UniqueFd report, int signal_fd,
                         std::optional<std::uint64_t> timeout_sec, bool until_over,
                         StdioRelay* relay = nullptr, CallSupervisor* calls = nullptr);

// rlimit-only mode's supervise(): the supervised process is the command itself, in a
// session of its own (setsid), with no pid namespace to end what it forks. Signals and
// the timeout's SIGKILL go to its whole session as well as to it; its report channel
// closes at execve, so the command's own exit (a pidfd) ends the watch, not the EOF.
// The command's wait status becomes command_status unless the timeout killed it.
SandboxOutcome supervise_command(pid_t command, sys::UniqueFd report, int signal_fd,
                                 std::optional<std::uint64_t> timeout_sec, StdioRelay* relay = nullptr);

// The launch result for an outcome, either mode: throws aj::Error for what the sandbox
// reported before execve (`setup_prefix` starts the setup error's message), 127/126 for
// a command that could not be found or executed. wall_sec, mode and enforced are the
// caller's to fill.
LaunchResult to_result(const SandboxOutcome& outcome, const std::string& setup_prefix);

}  // namespace aj::helper
