#include "helper/report_enforced.hpp"

#include <sched.h>

#include "policy/error.hpp"

namespace aj::helper {

namespace {

std::string action_name(const policy::SyscallAction& a) {
    switch (a.kind) {
        case policy::BlockedAction::Errno: return "errno:" + errno_name(a.errno_value);
        case policy::BlockedAction::Kill: return "kill";
        case policy::BlockedAction::Log: return "log";
    }
    return "?";
}

nlohmann::json value_or_null(const std::optional<std::uint64_t>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json describe_enforcement(const policy::Policy& policy, const policy::SeccompProgram& seccomp,
                                    int ns_flags, const LimitsPlan& limits_plan,
                                    const Identity& identity, const MountPlan& mounts) {
    using nlohmann::json;
    json limits = json::object();
    for (const auto& r : limits_plan.rlimits) {
        if (r.name == "core") continue;
        json entry{{"value", r.requested}, {"backend", "rlimit"}};
        if (r.clamped) entry["clamped_to"] = r.hard;
        limits[r.name] = entry;
    }
    if (!limits.contains("memory_mb")) limits["memory_mb"] = {{"value", nullptr}, {"backend", "none"}};
    limits["tmpfs_mb"] = {{"value", value_or_null(policy.limits.tmpfs_mb)}, {"backend", "tmpfs size"}};
    limits["timeout_sec"] = {{"value", value_or_null(limits_plan.timeout_sec)}, {"backend", "supervisor"}};
    // Without RLIMIT_NPROC (rlimit-only mode) and without a cgroup, max_pids is not
    // enforced: say so rather than pretend.
    if (!limits.contains("pids")) limits["pids"] = {{"value", value_or_null(policy.limits.pids)}, {"backend", "none"}};
    limits["cpus"] = {{"value", policy.limits.cpus ? json(*policy.limits.cpus) : json(nullptr)},
                      {"backend", "none"}};

    json mount_lines = json::array();
    for (const auto& op : mounts.ops) mount_lines.push_back(describe(op));

    const bool allow_list = policy.allowed_syscalls.has_value();
    return json{
        {"namespaces", namespace_names(ns_flags)},
        {"seccomp",
         {{"mode", allow_list ? "allow-list" : "deny-list"},
          {"action", action_name(policy.action)},
          {"rules", allow_list ? policy.allowed_syscalls->size() : policy.blocked_syscalls.size()},
          {"default_deny", policy.default_deny},
          {"instructions", seccomp.instructions.size()},
          // true: the program built in at build time (same rules, same libseccomp build)
          {"precompiled", seccomp.precompiled}}},
        {"capabilities", "all dropped"},
        {"no_new_privs", true},
        {"limits", limits},
        {"network", (ns_flags & CLONE_NEWNET) ? "none (own namespace, loopback only)" : "host"},
        {"identity",
         {{"inside_uid", identity.inside_uid},
          {"inside_gid", identity.inside_gid},
          {"outside_uid", identity.outside_uid},
          {"outside_gid", identity.outside_gid}}},
        {"hostname", policy.hostname},
        {"filesystem", mount_lines},
    };
}

}  // namespace aj::helper
