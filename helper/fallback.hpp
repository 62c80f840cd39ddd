// The mode decision and the rlimit-only launch path, for hosts that will not give us
// user namespaces (sysctl off, a container runtime's seccomp profile, an old kernel).
// Still applied there: no_new_privs, seccomp, Landlock path rules (where the kernel has
// Landlock), rlimits, cgroup limits (where a hierarchy is writable), closing every
// inherited fd, setsid, a cleared environment, and uid 65534 for a root caller.
#pragma once

#include <string>
#include <vector>

#include "helper/host_features.hpp"
#include "helper/launch.hpp"

namespace aj::helper {

// Runs in namespaces mode when the kernel gives the namespaces. When it refuses the
// clone itself (nothing has run yet), probes them (one short-lived child) to name the
// cause and falls back to rlimit-only mode with a warning on stderr naming
// what is not enforced, unless the policy (allow_fallback: false) or the caller
// (require_isolation, i.e. --require-isolation) forbids it: then aj::Error, exit 125,
// before anything runs.
LaunchResult launch_or_fall_back(const LaunchRequest& request, bool require_isolation);

// rlimit-only mode. `probe` says why namespaces were not available (for the warning).
LaunchResult launch_rlimit_only(const LaunchRequest& request, const std::vector<NamespaceProbe>& probe);

// One line: what the caller is missing ("user namespace: EPERM: refused by ...").
std::string namespaces_unavailable_reason(const std::vector<NamespaceProbe>& probe);

}  // namespace aj::helper
