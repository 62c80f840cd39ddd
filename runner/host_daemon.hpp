// The host daemon: serves STATE/queue/requests with N workers, each request in a sandbox
// of its own started by the daemon's launcher process (launcher.hpp), and answers each
// exactly once (see queue.hpp for the protocol and the crash rule).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace aj::runner {

struct HostOptions {
    std::string state_dir;                  // resolved, absolute
    std::string queue_dir;                  // absolute; empty: STATE/queue
    unsigned workers = 2;
    unsigned warm = 2;                      // warm sandboxes per plugin (warm_pool.hpp); 0: none
    std::size_t max_output = 1 << 20;       // per stream, per request
    std::size_t max_scan = 256;             // request names taken per directory scan
    std::chrono::milliseconds rescan{2000}; // periodic rescan, the net under inotify
    std::string pidfile;                    // written once serving, removed at exit; "" none
    int ready_fd = -1;                      // gets one byte once serving (--daemonize)
};

// Runs until SIGTERM or SIGINT, then drains (no new claims; running sandboxes finish,
// bounded by their timeouts; their responses are written) and returns 0. Throws aj::Error
// when another daemon holds the state directory's lock.
int run_host(const HostOptions& options);

}  // namespace aj::runner
