// What `aurora-jail learn` writes: the base policy plus what the observed run needed
// (helper/learn_supervisor.hpp's record), decided as a pure function of the two and the
// host's file system as it is now.
#pragma once

#include <string>
#include <vector>

#include "helper/launch.hpp"
#include "helper/learn_supervisor.hpp"
#include "policy/policy.hpp"

namespace aj::runner {

struct LearnedPolicy {
    policy::Policy policy;
    std::vector<std::string> added_paths;     // "PATH ro|rw"
    std::vector<std::string> allowed_calls;   // calls the base refused that the policy now allows
    std::vector<std::string> still_refused;   // calls made that stay refused, with the reason
};

// Paths: every host path the run named that the base does not grant already and that
// exists on the host now (a path never created is not granted), read-only unless written;
// a created, removed or renamed entry grants its directory read-write; a symlink also
// grants its target; four or more files read in one directory grant the directory. The
// sandbox's own trees (/proc, /sys, /dev, /tmp, /dev/shm themselves) are never granted.
// System calls: an allow-list gains what was made; a deny-list loses the blocked_syscalls
// entries that refused them (a group gives way to its other members). Calls in the
// default deny set (when the base has it on) are never added, in either mode: they stay
// refused and still_refused says so; lifting them takes a deliberate edit.
// A path is granted rw only where the sandbox's host identity (`sandbox`) may write on
// the host (owner, group or world write bit): a write attempt elsewhere (Python's
// bytecode cache under /usr) failed while learning and would fail in every run.
LearnedPolicy learned_policy(const policy::Policy& base, const helper::Learned& learned, const helper::HostIds& sandbox);

}  // namespace aj::runner
