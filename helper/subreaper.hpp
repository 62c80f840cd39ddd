// rlimit-only mode has no pid namespace whose end takes every process of the sandbox with
// it, and without a writable cgroup nothing else finds them. The runner becomes a child
// subreaper instead: whatever the command leaves behind (a daemon that called setsid()
// and forked again included) is re-parented to the runner rather than to the host's
// init, and end_descendants() kills it before the run returns.
#pragma once

#include <chrono>
#include <cstddef>

namespace aj::helper {

// PR_SET_CHILD_SUBREAPER on this process. Call before forking the command.
void become_subreaper();

// SIGKILLs and reaps every child of this process, round after round (each round's deaths
// re-parent their own children here), until none is left or `budget` has passed.
// Returns how many it killed. Only for a process whose children all belong to the run
// (the `run` command's process): it does not spare any.
std::size_t end_descendants(std::chrono::milliseconds budget);

}  // namespace aj::helper
