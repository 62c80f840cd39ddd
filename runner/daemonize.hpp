// `host --daemonize`: the host daemon without a service manager (the prototype's start.sh
// ran anywhere). The caller returns once the daemon is serving, or with its error.
#pragma once

#include <functional>
#include <string>

namespace aj::runner {

// Forks a daemon (new session, second fork, stdin from /dev/null, stdout and stderr
// appended to `log_file`) that runs `body(ready_fd)`; `body` writes one byte to
// `ready_fd` once it serves. Returns 0 when that byte arrives; throws aj::Error naming
// `log_file` when the daemon ended before being ready.
int daemonize(const std::string& log_file, const std::function<int(int ready_fd)>& body);

// Writes `path` atomically with this process's pid and a newline.
void write_pidfile(const std::string& path);

}  // namespace aj::runner
