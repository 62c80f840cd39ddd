// Landlock (unprivileged LSM): file-system path rules, TCP bind/connect denial and IPC
// scoping, masked to the ABI the running kernel offers. In rlimit-only mode it is what
// stands between the command and the caller's files; in namespaces mode it is a second
// wall behind the mount plan.
#pragma once

#include <string>
#include <vector>

#include "policy/policy.hpp"

namespace aj::helper {

struct LandlockSupport {
    int abi = 0;         // 0: not available
    std::string reason;  // why not ("kernel built without Landlock", "disabled at boot: ...")
};
// Asks the kernel (landlock_create_ruleset with LANDLOCK_CREATE_RULESET_VERSION).
LandlockSupport probe_landlock();

struct LandlockRule {
    std::string path;
    policy::PathMode mode = policy::PathMode::ReadOnly;
};

struct LandlockOptions {
    // ABI 4+: handle TCP bind and connect with no rule, so both are denied.
    bool deny_tcp = false;
    // ABI 6+: no connecting to abstract unix sockets, no signals, outside the domain.
    bool scope_ipc = true;
};

// What apply_landlock() enforced, for the report and the fallback warning.
struct LandlockApplied {
    int abi = 0;                        // 0: nothing applied (kernel has no Landlock)
    std::vector<std::string> skipped;   // rule paths that do not exist
    bool tcp_denied = false;
    bool ipc_scoped = false;
};

// Restricts the calling process (and its future children) irrevocably: read-only rules
// get read + execute, read-write rules every file-system right, anything else is denied.
// no_new_privs must already be set. Returns abi 0 when the kernel has no Landlock;
// throws aj::Error when it has it and a step fails (never a silent partial sandbox).
// Call in the child, after the mount namespace is final (rules resolve paths now).
LandlockApplied apply_landlock(const std::vector<LandlockRule>& rules, const LandlockOptions& options);

// The rules a policy implies: its allowed paths with their modes.
std::vector<LandlockRule> landlock_rules_for(const policy::Policy& policy);

}  // namespace aj::helper
