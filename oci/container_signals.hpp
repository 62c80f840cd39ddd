// Which processes a signal of `kill` reaches (docs/oci.md, "kill"): every process of the
// container's pid namespace (kill --all), or the user's process itself, the one PID 1
// forked (SIGSTOP and SIGCONT, which PID 1 cannot pass on for it: a stopped PID 1
// forwards nothing, and SIGSTOP cannot be caught).
#pragma once

#include <sys/types.h>

#include <optional>
#include <vector>

#include "policy/sys.hpp"

namespace aj::oci {

// A process pinned by a pidfd before it was checked: signalling it never reaches a
// process that took its number afterwards.
struct PinnedProcess {
    pid_t pid = 0;
    sys::UniqueFd pidfd;
};

// Every process whose pid namespace is PID 1's (PID 1 included), found in /proc.
std::vector<PinnedProcess> pid_namespace_members(pid_t pid1);

// The user's process: PID 1's oldest child (the command it forked; later children are
// orphans PID 1 adopted). nullopt when it has none left.
std::optional<PinnedProcess> container_command(pid_t pid1);

}  // namespace aj::oci
