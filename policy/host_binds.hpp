// Host paths no policy may bind into a sandbox, because the bind itself would undo the
// isolation the sandbox is built for.
#pragma once

#include <string>

#include "policy/policy.hpp"

namespace aj::policy {

// Why binding `rule` would defeat the sandbox, or "" when it may be bound. `rule.path`
// must already be absolute and normal (the comparison is by path components).
//   "/"                      the whole host, its /proc and cgroup hierarchy included;
//   /proc and below          the host's procfs shows and reaches host processes, which
//                            the sandbox's own pid namespace and fresh /proc hide;
//   /sys/fs/cgroup and below the host's cgroup hierarchy: a writable cgroup.procs lets
//                            the sandbox move itself out of its limits;
//   /sys, /sys/fs read-write the same hierarchy, carried along by the recursive bind.
std::string refused_host_bind(const PathRule& rule);

}  // namespace aj::policy
