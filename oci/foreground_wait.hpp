// What `exec` and `run` do in the foreground: wait for a child of this command while
// passing on the signals this command gets, then exit with the child's status.
#pragma once

#include <sys/types.h>

#include <functional>

namespace aj::oci {

// A wait status as runc's exit code: the exit code, or 128+N for signal N.
int exit_status(int status);

// Waits for `child` (this process's own, unreaped) to end, handing every signal read from
// `signals` (a signalfd over signals blocked before the child was forked) to `forward`
// meanwhile; reaps the child and returns exit_status() of it.
int wait_forwarding(pid_t child, int signals, const std::function<void(int)>& forward);

}  // namespace aj::oci
