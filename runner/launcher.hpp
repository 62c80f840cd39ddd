// The host daemon's launcher: one single-threaded process forked from the daemon when it
// starts (before any worker thread exists), which starts every request's sandbox by fork
// alone. The daemon is threaded, and a new user namespace needs a single-threaded caller:
// without the launcher each request would exec a fresh `aurora-jail run`, paying for the
// exec, the dynamic linker, the command line and a second parse of the policy.
//
// Protocol (runner/launcher.cpp):
//   control socket (SOCK_SEQPACKET, daemon <-> launcher): one message per request, the
//     order {"name": NAME, "state_dir": DIR, "request": {...the request, as queue.hpp's
//     to_json writes it...}}, carrying three descriptors: the reply socket, the stdout pipe
//     and the stderr pipe. EOF (the daemon closing its end) means no more orders: the
//     launcher waits for the runs it started, then exits.
//   For each order the launcher forks a run process (no exec), or hands the order to a
//     warm run process that built its sandbox in advance (warm_pool.hpp), with stdin /dev/null and
//     stdout/stderr the two pipes: where the sandbox's output is relayed, and where
//     `aurora-jail run`'s own messages go. The run process loads the plugin's policy once,
//     checks the request against it (request_limits.hpp) and runs the sandbox with that
//     parsed policy (run_sandbox.hpp).
//   reply socket (SOCK_STREAM, run process -> daemon worker), JSON lines in this order:
//     {"launcher": "pid"}          with a pidfd of the run process: the worker kills it
//                                   through this at the deadline (never a reused pid)
//     {"launcher": "refused", "error": REASON}
//                                   the request is answered with this error; nothing ran
//     {"launcher": "started", "timeout_sec": N[, "warm": true]}
//                                   the request was checked; the deadline is N s + grace;
//                                   "warm": a warm sandbox took it (warm_pool.hpp)
//     the run report               one line without a "launcher" key, when the sandbox ran
//     {"launcher": "done", "rc": N} last: the command's exit code, or 125 with the reason
//                                   as the last line of stderr. Every process of the
//                                   sandbox is gone by then; the run process then gives
//                                   up the worker's descriptors (its stdout and stderr go
//                                   to the daemon's log) and tears down: the cgroup, the
//                                   run directory, the leased host id. The worker answers
//                                   meanwhile; a crash in between leaves what the next
//                                   start removes (abandoned run directories; the stale
//                                   cgroup sweep; a lease is a lock that dies with it).
//   EOF before "done" or "refused": the run process died (killed at the deadline, or a bug).
//   The worker writes one byte back, "g", once the request's claim is durable (queue.hpp):
//   the run process builds the sandbox meanwhile, and its command starts only after that
//   byte (EOF instead: nothing untrusted runs, the run ends with a setup error).
//
// Lifetimes: the launcher dies with the daemon and each run process with the launcher
// (PR_SET_PDEATHSIG), each sandbox with its run process (its sync pipe): a daemon killed by
// SIGKILL leaves nothing running, and its claimed requests to the crash rule (queue.hpp).
// The launcher keeps SIGTERM/SIGINT/SIGHUP blocked: a drain is the daemon's to run, and it
// ends once every run process has (teardowns included). At most kMaxRunProcesses run
// processes exist at once: beyond that the launcher reads no order until one ends.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "policy/sys.hpp"
#include "runner/queue.hpp"

namespace aj::runner {

struct LaunchLimits {
    std::size_t max_stdout = 1 << 20;
    std::size_t max_stderr = 1 << 20;
    // The run enforces its own timeout; beyond timeout + grace (or grace before it has
    // said "started") the worker kills the run process.
    std::chrono::milliseconds grace{30000};
};

struct LaunchedRun {
    std::optional<std::string> refused;  // set: answer this error, nothing ran
    int exit_code = -1;                  // the "done" rc; kExitInternal when none came
    nlohmann::json report;               // null when the sandbox never ran
    std::string out, err;
    bool out_truncated = false, err_truncated = false;
    bool killed_at_deadline = false;
    bool warm = false;  // served by a warm sandbox (warm_pool.hpp)
};

class Launcher {
public:
    // Forks the launcher. Call from a single-threaded process, with the signals the
    // daemon handles already blocked (the launcher keeps them blocked).
    // `warm_per_plugin`: warm sandboxes kept per plugin (warm_pool.hpp); 0, none.
    static Launcher start(unsigned warm_per_plugin = 0);

    // Runs one request (any worker thread may call this): output captured up to the
    // limits, report and exit code from the reply socket. `before_command` runs while the
    // sandbox is being built (the claim's sync); the command waits for it, and never
    // starts when it throws (rethrown here). Throws aj::Error when the launcher cannot be
    // reached (it has died).
    LaunchedRun run(const std::string& name, const Request& request, const std::string& state_dir,
                    const LaunchLimits& limits, const std::function<void()>& before_command) const;

    // Readable once the launcher has exited (it should not before stop()).
    int exit_fd() const { return pidfd_.get(); }

    // No more orders: the launcher finishes the runs it started and exits; reaps it.
    void stop();

    ~Launcher() { stop(); }
    Launcher(const Launcher&) = delete;
    Launcher& operator=(const Launcher&) = delete;

private:
    Launcher(pid_t pid, sys::UniqueFd control, sys::UniqueFd pidfd)
        : pid_(pid), control_(std::move(control)), pidfd_(std::move(pidfd)) {}
    pid_t pid_ = -1;
    sys::UniqueFd control_;
    sys::UniqueFd pidfd_;
};

}  // namespace aj::runner
