// What this host lets an unprivileged (or root) caller enforce, probed for real: each
// namespace is tried in a forked child, cgroups are created and removed, Landlock and
// seccomp are asked. Used by `aurora-jail check` and by the run's mode decision.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "helper/landlock.hpp"

namespace aj::helper {

struct NamespaceProbe {
    std::string name;    // "user", "mount", "pid", "net", "ipc", "uts", "cgroup"
    bool ok = false;
    int error = 0;       // errno of unshare() when !ok
    std::string reason;  // the likely cause, in words an operator can act on
};

struct SeccompProbe {
    bool ok = false;
    std::vector<std::string> actions;  // /proc/sys/kernel/seccomp/actions_avail
    std::string reason;
};

struct CgroupProbe {
    std::string layout;  // "v2", "v1", "hybrid", "none"
    nlohmann::json backends;  // Cgroup::describe() of a probe cgroup: per limit backend, notes
};

struct HostFeatures {
    std::vector<NamespaceProbe> namespaces;
    SeccompProbe seccomp;
    LandlockSupport landlock;
    CgroupProbe cgroups;
    // "namespaces" when user, mount, pid and net namespaces can all be had, else "rlimit-only".
    std::string mode;
    // namespaces mode and a seccomp filter: everything the launch sequence (docs/design.md) needs.
    bool full_isolation = false;
    nlohmann::json to_json() const;
};

// Just the namespace part (cheap: one fork); the run's mode decision uses this.
std::vector<NamespaceProbe> probe_namespaces();
std::string mode_for(const std::vector<NamespaceProbe>& namespaces);
SeccompProbe probe_seccomp();
// Creates (in a forked child) and removes a cgroup with memory, cpu and pids limits.
CgroupProbe probe_cgroups();
HostFeatures probe_host_features();

}  // namespace aj::helper
