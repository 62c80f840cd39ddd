// The sandbox's own kernel quotas. Its user namespace is owned by its host uid
// (userns.hpp, CreatorIdentity), so the kernel charges that uid, never root, for what the
// sandbox creates; these fixed limits (docs/policy.md, "Kernel quotas") bound the sandbox
// further, inside its own namespace, whatever the host's per-user defaults are.
#pragma once

#include <sys/resource.h>

namespace aj::helper {

struct UserNsQuota {
    const char* name;  // a file of /proc/sys/user/ (per user, per user namespace)
    long value;
};

// Namespaces of each kind, inotify and fanotify objects the sandbox's uid may hold.
inline constexpr UserNsQuota kUserNsQuotas[] = {
    {"max_user_namespaces", 16},   {"max_mnt_namespaces", 16},   {"max_pid_namespaces", 16},
    {"max_net_namespaces", 16},    {"max_ipc_namespaces", 16},   {"max_uts_namespaces", 16},
    {"max_cgroup_namespaces", 16}, {"max_time_namespaces", 16},  {"max_inotify_instances", 128},
    {"max_inotify_watches", 8192}, {"max_fanotify_groups", 16},  {"max_fanotify_marks", 8192},
};

// POSIX message queue bytes (RLIMIT_MSGQUEUE) and queued signals (RLIMIT_SIGPENDING): both
// are counted per host uid, so these bound what the sandbox takes of its uid's share.
struct QuotaRlimit {
    int resource;
    const char* name;
    long value;
};
inline constexpr QuotaRlimit kQuotaRlimits[] = {
    {RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE", 256 * 1024},
    {RLIMIT_SIGPENDING, "RLIMIT_SIGPENDING", 1024},
};

// PID 1, inside its new user namespace and still holding CAP_SYS_RESOURCE there: writes
// kUserNsQuotas into that namespace's /proc/sys/user (the kernel applies a write to the
// writer's own user namespace). A file this kernel does not have is skipped.
void limit_user_namespace_quotas();

// The command (or rlimit-only mode's child): lowers RLIMIT_MSGQUEUE and RLIMIT_SIGPENDING
// to kQuotaRlimits (never raises them: the current hard limit caps both).
void apply_quota_rlimits();

}  // namespace aj::helper
