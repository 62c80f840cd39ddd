// The sandbox's stdin, stdout and stderr, relayed by the runner, so that the sandbox holds
// no open file description of the host: not the caller's terminal (whose line discipline,
// termios and exclusive mode it could change for good), not the caller's `>> log` file
// (which it could truncate or grow), not the daemon's pipes.
//
// Contract:
// - Built in the runner before the clone (fork in rlimit-only mode). For each of fds 0-2
//   the sandbox gets an object made for this run: the slave of a new pseudo-terminal when
//   the caller's fd is a terminal, the caller's own fd when it is the null device (nothing
//   there to change for the caller), else a pipe (one pipe for stdout and stderr when the
//   caller's two are the same open file, so `>out 2>&1` keeps its order). sandbox_side()
//   says what the child installs as 0-2 and which fd, if any, becomes its controlling
//   terminal (after setsid; fds.hpp does both).
// - started(), in the runner right after the clone, closes the runner's copies of the
//   sandbox's ends and, in terminal mode with the caller in the foreground of its
//   terminal, puts that terminal in raw mode (keys, Ctrl-C included, reach the
//   pseudo-terminal, whose line discipline has the caller's settings). The destructor
//   restores the caller's terminal on every exit path, exceptions included.
// - The supervise loop polls add_poll_fds()'s fds with its own and hands the results to
//   on_poll(). Bytes move with splice(2) when one end is a pipe, read/write otherwise.
//   SIGWINCH copies the caller's window size to the pseudo-terminal; SIGPIPE is blocked
//   while the relay lives (a reader that went away is an EPIPE, handled per stream).
// - EOF on the caller's stdin closes the sandbox's stdin (EOF inside). A caller's output
//   that fails (its reader gone, EPIPE) closes that stream's pipe: the sandbox then gets
//   EPIPE/SIGPIPE as it would have on the caller's own fd.
// - finish(), once the sandbox is over, stops reading the caller's stdin and moves what the
//   sandbox wrote until EOF (all writers gone), so output is never lost. A caller reading
//   slowly is waited for; a sandbox side with nothing for `idle_limit` while the caller
//   could take more is abandoned (a writer stuck in the kernel must not hang the runner).
// - StdioMode::PassThrough (`run --pass-stdio`) gives the sandbox the caller's own fds, as
//   older releases did: weaker (see SECURITY.md), the relay then does nothing.
// - With count_output(budget) (a --detach run, whose output goes to log files in its run
//   directory) every byte relayed to the caller's stdout and stderr counts against the
//   disk budget; once it allows no more, the rest of the output is read and dropped, and
//   one line on the runner's stderr says so.
#pragma once

#include <poll.h>
#include <termios.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "helper/disk_budget.hpp"
#include "helper/fds.hpp"
#include "helper/supervisor.hpp"
#include "policy/sys.hpp"

namespace aj::helper {

class StdioRelay {
public:
    StdioRelay(StdioMode mode, const int (&caller)[3]);
    ~StdioRelay();
    StdioRelay(const StdioRelay&) = delete;
    StdioRelay& operator=(const StdioRelay&) = delete;

    const SandboxStdio& sandbox_side() const { return sandbox_; }
    // Runner side, after the clone/fork: see the contract above.
    void started();
    void add_poll_fds(std::vector<pollfd>& fds);
    void on_poll(const std::vector<pollfd>& fds);
    void finish(std::chrono::milliseconds idle_limit = std::chrono::seconds(1));
    // See the contract above; `budget` outlives this relay.
    void count_output(DiskBudget& budget);

    struct Stream;  // one direction: a source fd relayed to a destination fd

private:
    void open_terminal(const int (&caller)[3]);
    void sync_window_size();

    SandboxStdio sandbox_;
    std::vector<sys::UniqueFd> sandbox_ends_;  // closed by started()
    std::vector<std::unique_ptr<Stream>> streams_;
    sys::UniqueFd master_;
    int caller_terminal_ = -1;              // the caller's terminal fd (not ours to close)
    int keys_from_ = -1;                    // the caller's stdin, when it is that terminal
    std::optional<termios> saved_termios_;  // set while the caller's terminal is raw
    std::optional<BlockedSignals> signals_;  // SIGPIPE, SIGWINCH
    std::size_t poll_offset_ = 0;
};

}  // namespace aj::helper
