// Signal dispositions for a process about to execve the sandboxed command.
#pragma once

namespace aj::helper {

// Sets every ignored signal back to SIG_DFL, so the command starts with the default
// disposition of each (execve itself resets the caught ones; ignored ones it keeps, and
// the runner's caller, or PID 1, may have ignored some). Reads which are ignored from
// /proc/self/status (one open and read rather than a system call per signal: each costs
// microseconds on a virtualised host); without a readable procfs, resets all of them.
// Allocates nothing: safe in a child that shares its parent's memory.
void reset_ignored_signals() noexcept;

}  // namespace aj::helper
