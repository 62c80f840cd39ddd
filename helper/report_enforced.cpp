#include "helper/report_enforced.hpp"

#include <sched.h>

#include <csignal>
#include <cstdio>

#include "policy/error.hpp"
#include "policy/text.hpp"

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

nlohmann::json to_json(const LimitRecord& l) {
    nlohmann::json j{{"value", l.value}, {"backend", l.backend}};
    if (l.clamped_to) j["clamped_to"] = *l.clamped_to;
    if (!l.scope.empty()) j["scope"] = l.scope;
    if (l.hit) j["hit"] = *l.hit;
    for (const auto& [key, value] : l.details.items()) j[key] = value;
    if (!l.hit_by.empty()) j["hit_by"] = l.hit_by;
    return j;
}

nlohmann::json to_json(const CgroupRecord& c) {
    if (!c.created) return {{"created", false}, {"reason", c.reason}};
    nlohmann::json j = c.layout;
    if (c.memory_peak_bytes) j["memory_peak_bytes"] = *c.memory_peak_bytes;
    j["oom_killed"] = c.oom_killed;
    if (c.cpu_sec) j["cpu_sec"] = *c.cpu_sec;
    if (c.cpu_throttled_periods) j["cpu_throttled_periods"] = *c.cpu_throttled_periods;
    j["cpu_time_exceeded"] = c.cpu_time_exceeded;
    j["placed_by"] = c.placed_by;
    return j;
}

nlohmann::json to_json(const SeccompRecord& s) {
    nlohmann::json j{{"instructions", s.instructions}, {"denials_reported", s.supervised}};
    if (s.rules) {
        j["mode"] = s.rules->mode;
        j["action"] = s.rules->action;
        j["rules"] = s.rules->count;
        j["default_deny"] = s.rules->default_deny;
        j["precompiled"] = s.rules->precompiled;
    }
    if (s.fallback_filter) j["fallback_filter"] = *s.fallback_filter;
    return j;
}

nlohmann::json to_json(const LandlockRecord& l) {
    return {{"abi", l.abi}, {"rules", l.rules}, {"tcp_denied", l.tcp_denied}, {"ipc_scoped", l.ipc_scoped}};
}

}  // namespace

void note_limit_hit(EnforcementRecord& record, const std::string& name, const std::string& value,
                    const std::string& evidence, bool quiet) {
    LimitRecord& limit = record.limits[name];
    limit.hit = true;
    limit.hit_by = evidence;
    if (quiet) return;
    // The policy's own key: "pids" is max_pids, "timeout_sec" is itself.
    const std::string key = name == "timeout_sec" ? name : "max_" + name;
    std::fprintf(stderr, "aurora-jail: limit hit: %s %s (%s)\n", key.c_str(), value.c_str(), evidence.c_str());
}

void note_limits_hit_by_end(EnforcementRecord& record, const policy::Policy& policy, std::optional<int> signal,
                            bool timed_out, std::optional<std::uint64_t> timeout_sec) {
    const auto& l = policy.limits;
    // The command's own end names it best; else another process the watch saw die.
    const auto killed_by = [&](int sig, const char* what) -> std::optional<std::string> {
        if (signal == sig) return std::string("the command was killed by ") + what;
        const auto it = record.limit_signal_deaths.find(sig);
        if (it == record.limit_signal_deaths.end()) return std::nullopt;
        // Its name is the sandbox's to choose (PR_SET_NAME): quoted, control bytes escaped.
        return "a process of the sandbox" + (it->second.empty() ? std::string() : " (" + policy::quote(it->second) + ")") +
               " was killed by " + what;
    };
    if (l.cpu_sec)
        if (auto by = killed_by(SIGXCPU, "SIGXCPU")) {
            note_limit_hit(record, "cpu_sec", std::to_string(*l.cpu_sec), *by + ": its own CPU time passed RLIMIT_CPU");
            if (record.cgroup) record.cgroup->cpu_time_exceeded = true;
        }
    if (l.file_size_mb)
        if (auto by = killed_by(SIGXFSZ, "SIGXFSZ"))
            note_limit_hit(record, "file_size_mb", std::to_string(*l.file_size_mb), *by + ": it wrote past RLIMIT_FSIZE");
    // The runner prints its own "timed out" line.
    if (timed_out && timeout_sec)
        note_limit_hit(record, "timeout_sec", std::to_string(*timeout_sec), "the sandbox was killed at the wall-clock limit",
                       /*quiet=*/true);
}

void record_planned_limits(EnforcementRecord& record, const LimitsPlan& limits) {
    for (const auto& r : limits.rlimits) {
        if (r.name == "core") continue;
        LimitRecord& entry = record.limits[r.name];
        entry.value = r.requested;
        entry.backend = "rlimit";
        if (r.clamped) entry.clamped_to = r.hard;
    }
    record.limits["timeout_sec"] = {value_or_null(limits.timeout_sec), "supervisor", std::nullopt};
}

EnforcementRecord describe_enforcement(const policy::Policy& policy, const policy::SeccompProgram& seccomp,
                                       int ns_flags, const LimitsPlan& limits_plan, const Identity& identity,
                                       const MountPlan& mounts) {
    EnforcementRecord r;
    record_planned_limits(r, limits_plan);
    r.limits.try_emplace("memory_mb");
    r.limits["tmpfs_mb"] = {value_or_null(policy.limits.tmpfs_mb), "tmpfs size", std::nullopt};
    // Without RLIMIT_NPROC (rlimit-only mode) and without a cgroup, max_pids is not
    // enforced: say so rather than pretend.
    r.limits.try_emplace("pids", LimitRecord{value_or_null(policy.limits.pids), "none", std::nullopt});
    r.limits["cpus"] = {policy.limits.cpus ? nlohmann::json(*policy.limits.cpus) : nlohmann::json(nullptr), "none",
                        std::nullopt};

    const bool allow_list = policy.allowed_syscalls.has_value();
    r.namespaces = namespace_names(ns_flags);
    r.seccomp.instructions = seccomp.instructions.size();
    r.seccomp.supervised = policy::needs_listener(seccomp);
    r.seccomp.rules = SeccompRecord::Rules{
        allow_list ? "allow-list" : "deny-list", action_name(policy.action),
        allow_list ? policy.allowed_syscalls->size() : policy.blocked_syscalls.size(), policy.default_deny,
        seccomp.precompiled};
    r.capabilities = "all dropped";
    r.identity_map = identity;
    r.network = (ns_flags & CLONE_NEWNET) ? "none (own namespace, loopback only)" : "host";
    r.hostname = policy.hostname;
    r.filesystem.emplace();
    for (const auto& op : mounts.ops) r.filesystem->push_back(describe(op));
    return r;
}

nlohmann::json to_json(const EnforcementRecord& r, bool full) {
    nlohmann::json j = nlohmann::json::object();
    if (r.cgroup) j["cgroup"] = to_json(*r.cgroup);
    if (r.accounting) j["accounting"] = *r.accounting;
    if (!full) return j;
    j["namespaces"] = r.namespaces;
    j["no_new_privs"] = r.no_new_privs;
    j["capabilities"] = r.capabilities;
    if (r.identity_map)
        j["identity"] = {{"inside_uid", r.identity_map->inside_uid},
                         {"inside_gid", r.identity_map->inside_gid},
                         {"outside_uid", r.identity_map->outside_uid},
                         {"outside_gid", r.identity_map->outside_gid}};
    else
        j["identity"] = r.identity;
    j["seccomp"] = to_json(r.seccomp);
    nlohmann::json limits = nlohmann::json::object();
    for (const auto& [name, limit] : r.limits) limits[name] = to_json(limit);
    j["limits"] = limits;
    if (r.network) j["network"] = *r.network;
    if (r.hostname) j["hostname"] = *r.hostname;
    if (r.filesystem) j["filesystem"] = *r.filesystem;
    if (r.landlock) j["landlock"] = to_json(*r.landlock);
    if (r.environment) j["environment"] = *r.environment;
    if (r.session) j["session"] = *r.session;
    if (r.not_enforced) j["not_enforced"] = *r.not_enforced;
    return j;
}

}  // namespace aj::helper
