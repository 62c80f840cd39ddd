// Running one child program from a (possibly threaded) process and capturing its output
// up to a bound, with a deadline. Used by the host daemon for every sandboxed run: the
// daemon is threaded, and unshare(CLONE_NEWUSER) only works in a fresh single-threaded
// process, so each run is `aurora-jail run ...` in a child of its own.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace aj::runner {

struct CaptureLimits {
    std::size_t max_stdout = 1 << 20;
    std::size_t max_stderr = 1 << 20;
    std::chrono::milliseconds deadline{60000};  // then SIGKILL
};

struct CapturedRun {
    int exit_code = -1;  // exit status, or 128+N when killed by signal N
    std::string out, err;
    bool out_truncated = false, err_truncated = false;
    bool killed_at_deadline = false;
};

// Runs argv (argv[0] an absolute path) with stdin from /dev/null, in its own process
// group (a terminal's ^C to the daemon does not hit it), with SIGKILL as its parent-death
// signal, default signal mask and dispositions. Output beyond the limits is read and
// dropped so the child never blocks on a full pipe. Once the child has exited, output
// still held open by its descendants is drained for at most one second.
CapturedRun run_captured(const std::vector<std::string>& argv, const CaptureLimits& limits);

}  // namespace aj::runner
