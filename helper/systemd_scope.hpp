// A delegated cgroup from systemd, for a caller on a cgroup v2 host that may not subdivide
// its own cgroup (an ordinary user's login session, owned by root): the caller's systemd
// manager (the user's own for ordinary users, the system's for root) is asked over D-Bus
// (libsystemd's sd-bus, loaded only then: helper/libsystemd_loader.hpp) for a transient
// scope with Delegate=yes that holds this process, as rootless podman does. The scope is systemd's to remove: it goes once its last process
// has exited.
#pragma once

#include <chrono>
#include <string>

namespace aj::helper {

struct SystemdScope {
    std::string unit;     // "aurora-jail-PID-HEX.scope" once this process lives in it
    std::string manager;  // "user" or "system": whose manager was asked
    // Why there is no scope (no libsystemd.so.0, no bus to connect to, the manager
    // refused, the job failed),
    // one line for `check` and the cgroup notes; empty with a unit.
    std::string why_not;
};

class LibSystemd;

// Whether systemd is this host's init (sd_booted()'s test, done here without loading
// libsystemd: /run/systemd/system/ is a directory), so that a manager may be there to
// ask. One lstat: without it, loading libsystemd and a first sd-bus connect that fails
// would cost every run on a host without systemd.
bool systemd_is_init();

// Loads libsystemd.so.0 (once per process, process_libsystemd()), asks for the scope and waits (at most `budget`) for systemd's JobRemoved signal of its
// start job. Without a bus (a host where systemd does not run, no user session) it
// returns at the failed connect, well under a millisecond, with why_not set. Never throws
// for what the bus or the manager answers; the process stays where it was then. Without
// the library: why_not "systemd scope: libsystemd.so.0 not found (...)".
SystemdScope join_delegated_scope(std::chrono::milliseconds budget = std::chrono::milliseconds(10000));
// The same with a library the caller loaded (tests load one under another name).
SystemdScope join_delegated_scope(const LibSystemd& sd,
                                  std::chrono::milliseconds budget = std::chrono::milliseconds(10000));

}  // namespace aj::helper
