// Detached processes: `run --detach`'s supervisor and `host --daemonize` (the host daemon
// without a service manager; the prototype's start.sh ran anywhere). The caller returns
// once the detached process says it is ready, or with an error.
#pragma once

#include <functional>
#include <string>

namespace aj::runner {

// Forks a process in a new session, then forks again so that it is not a session leader
// (it can never regain a controlling terminal) and is reparented away. That process runs
// `body(ready_fd)` and exits with its result (an aj::Error's exit code, printed on its
// stderr, when it throws); `body` writes one byte to `ready_fd` once it is ready. Returns
// then; throws aj::Error(`not_ready`) when the process ended before being ready.
void fork_detached(const std::function<int(int ready_fd)>& body, const std::string& not_ready);

// `host --daemonize`: fork_detached with stdin from /dev/null, stdout and stderr appended
// to `log_file` and the cwd "/"; `body` is the daemon. Returns 0 once it serves.
int daemonize(const std::string& log_file, const std::function<int(int ready_fd)>& body);

// Opens `path` (never through a final symlink; created 0600 with O_CREAT) as fd `target`.
void redirect_fd(int target, const std::string& path, int flags);

// Writes `path` atomically with this process's pid and a newline.
void write_pidfile(const std::string& path);

}  // namespace aj::runner
