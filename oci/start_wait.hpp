// `start` returns once the container's process runs its own program and has settled (at
// its first wait, or after a short while), not merely once it was released: an engine (or runtime-tools' killsig) that signals the container right
// after `start` must reach the program's own handlers, never the default action of a
// signal delivered while PID 1 is still forking and setting up the process.
#pragma once

#include <sys/types.h>

#include <chrono>

namespace aj::oci {

// Waits until PID 1's command (container_signals.hpp) has exec'd its program (its name is
// no longer PID 1's) and then either first waits on something (its state is no longer
// running or in disk wait: a shell's `trap` is set by then, a server listens) or ran for
// `settle`; or until PID 1 (pid1, started at pid1_start) is gone, or `limit` passed.
// Returns whether the program was seen running.
bool wait_for_command_exec(pid_t pid1, unsigned long long pid1_start, std::chrono::milliseconds limit,
                           std::chrono::milliseconds settle);

}  // namespace aj::oci
