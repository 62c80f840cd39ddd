// What `exec` and `run` do in the foreground: wait for a child of this command while
// passing on the signals this command gets, then exit with the child's status.
#pragma once

#include <poll.h>
#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <vector>

namespace aj::oci {

// Something moved while the wait goes on (run's terminal, foreground_terminal.hpp): its
// fds join the wait's poll, from index `first` on.
class PollSide {
public:
    virtual ~PollSide() = default;
    virtual void add_poll_fds(std::vector<pollfd>& fds) = 0;
    virtual void on_poll(const std::vector<pollfd>& fds, std::size_t first) = 0;
};

// A wait status as runc's exit code: the exit code, or 128+N for signal N.
int exit_status(int status);

// Waits for `child` (this process's own, unreaped) to end, handing every signal read from
// `signals` (a signalfd over signals blocked before the child was forked) to `forward`
// meanwhile, and moving `side`'s fds when given; reaps the child and returns exit_status()
// of it.
int wait_forwarding(pid_t child, int signals, const std::function<void(int)>& forward, PollSide* side = nullptr);

}  // namespace aj::oci
