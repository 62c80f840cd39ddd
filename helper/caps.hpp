// Capabilities: an aurora-jail sandbox keeps none; an aurora-runc container keeps those
// its config lists, inside its own user namespace (CapabilitySets).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace aj::helper {

// One bit per capability number (1 << CAP_CHOWN ...), one mask per set.
struct CapabilitySets {
    std::uint64_t bounding = 0;
    std::uint64_t effective = 0;
    std::uint64_t permitted = 0;
    std::uint64_t inheritable = 0;
    std::uint64_t ambient = 0;
    bool operator==(const CapabilitySets&) const = default;
};

// "CAP_SYS_ADMIN" -> 21: the names libcap knows, spelled as the OCI runtime-spec does
// (upper case, CAP_ prefix). nullopt for anything else (a number, "CAP_TEST").
std::optional<int> capability_number(const std::string& name);

// 21 -> "CAP_SYS_ADMIN" (the number itself for one libcap does not name).
std::string capability_name(int cap);

// The highest capability number the running kernel knows (/proc/sys/kernel/cap_last_cap).
int last_capability();

// The command's side, before its seccomp filter and execve: the inheritable set and the
// ambient set become exactly `sets`', then the bounding set is narrowed to `sets.bounding`
// (CAP_SETPCAP is needed, held in the sandbox's user namespace until then). Effective and
// permitted stay as they are: execve computes them anew (capabilities(7): from the
// bounding, inheritable and ambient sets and the uid), and loading a filter without
// no_new_privs needs CAP_SYS_ADMIN until then. Verifies the result.
void set_kept_capabilities(const CapabilitySets& sets);

// Drops every capability: bounding set first (needs CAP_SETPCAP, still held; each entry
// confirmed gone), then the ambient set, then effective, permitted and inheritable.
// Verifies the result.
void drop_all_capabilities();

// Throws unless the effective, permitted and inheritable sets are empty (one capget). For
// a process that inherited its credentials from one that ran drop_all_capabilities() (the
// command, forked by the sandbox's PID 1), whose bounding set that process emptied and
// no process can refill.
void verify_no_capabilities();

}  // namespace aj::helper
