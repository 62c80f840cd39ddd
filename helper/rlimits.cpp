#include "helper/rlimits.hpp"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <memory>

#include "policy/sys.hpp"

namespace aj::helper {

namespace {

struct RlimitRule {
    int resource;
    const char* name;
    std::optional<std::uint64_t> policy::Limits::*field;
    std::uint64_t unit;     // kernel units per policy unit
    rlim_t hard_headroom;   // hard = soft + this (RLIMIT_CPU: SIGXCPU first, SIGKILL 1 s later)
};

// max_memory_mb is the cgroup's, or a total by accounting (SandboxCgroup). RLIMIT_DATA is
// only the per-process backstop while accounting polls (dropped where a memory cgroup
// holds): it counts writable private memory, not address space, so the JVM's, node's and
// Go's PROT_NONE reservations pass, where RLIMIT_AS made them fail.
constexpr RlimitRule kRules[] = {
    {RLIMIT_DATA, "memory_mb", &policy::Limits::memory_mb, 1024 * 1024, 0},
    {RLIMIT_CPU, "cpu_sec", &policy::Limits::cpu_sec, 1, 1},
    {RLIMIT_NOFILE, "open_files", &policy::Limits::open_files, 1, 0},
    {RLIMIT_FSIZE, "file_size_mb", &policy::Limits::file_size_mb, 1024 * 1024, 0},
};

// A setting of the policy in its own unit and in the kernel's, before any clamp.
RlimitSetting wanted(int resource, std::string name, std::uint64_t requested, rlim_t want, rlim_t headroom) {
    RlimitSetting s;
    s.resource = resource;
    s.name = std::move(name);
    s.requested = requested;
    s.soft = want;
    s.hard = want > RLIM_INFINITY - headroom ? RLIM_INFINITY : want + headroom;
    return s;
}

// `s` under the hard limit in force (nobody inside can raise a hard limit).
RlimitSetting clamp(RlimitSetting s) {
    rlimit current{};
    sys::check(::getrlimit(s.resource, &current), "getrlimit " + s.name);
    s.clamped = s.soft > current.rlim_max;
    s.hard = std::min<rlim_t>(s.hard, current.rlim_max);
    s.soft = std::min<rlim_t>(s.soft, s.hard);
    return s;
}

}  // namespace

std::vector<RlimitSetting> policy_rlimits(const policy::Policy& policy, RlimitScope scope, bool memory_in_cgroup) {
    std::vector<RlimitSetting> out;
    for (const auto& rule : kRules) {
        const auto& value = policy.limits.*rule.field;
        if (!value) continue;
        if (rule.resource == RLIMIT_DATA && memory_in_cgroup) continue;
        // Saturate instead of overflowing on absurd values.
        rlim_t want = *value > RLIM_INFINITY / rule.unit ? RLIM_INFINITY - 1 : *value * rule.unit;
        out.push_back(wanted(rule.resource, rule.name, *value, want, rule.hard_headroom));
    }
    if (scope == RlimitScope::OwnUserNamespace && policy.limits.pids)
        out.push_back(wanted(RLIMIT_NPROC, "pids", *policy.limits.pids, *policy.limits.pids, 0));
    // No core dumps: they would write the sandbox's memory into its cwd.
    out.push_back(wanted(RLIMIT_CORE, "core", 0, 0, 0));
    return out;
}

std::vector<RlimitSetting> plan_rlimits(const policy::Policy& policy, RlimitScope scope, bool memory_in_cgroup) {
    std::vector<RlimitSetting> out = policy_rlimits(policy, scope, memory_in_cgroup);
    for (auto& s : out) s = clamp(std::move(s));
    return out;
}

void apply_rlimits(const std::vector<RlimitSetting>& settings) {
    for (const auto& s : settings) {
        rlimit limit{s.soft, s.hard};
        sys::check(::setrlimit(s.resource, &limit),
                   "setrlimit " + s.name + " " + std::to_string(s.soft) + "/" + std::to_string(s.hard));
    }
}

RlimitRequest cap_rlimit_request(const RlimitRequest& request, rlim_t ceiling_soft, rlim_t ceiling_hard) {
    RlimitRequest capped = request;
    capped.hard = std::min(request.hard, ceiling_hard);
    capped.soft = std::min({request.soft, ceiling_soft, capped.hard});
    return capped;
}

void apply_requested_rlimits(const std::vector<RlimitRequest>& requests) {
    for (const auto& r : requests) {
        rlimit current{};
        sys::check(::getrlimit(r.resource, &current), "getrlimit " + r.name);
        const RlimitRequest capped = cap_rlimit_request(r, current.rlim_max, current.rlim_max);
        rlimit limit{capped.soft, capped.hard};
        sys::check(::setrlimit(r.resource, &limit),
                   "setrlimit " + r.name + " " + std::to_string(capped.soft) + "/" + std::to_string(capped.hard));
    }
}

std::uint64_t count_tasks_of(uid_t uid) {
    std::uint64_t n = 0;
    std::unique_ptr<DIR, int (*)(DIR*)> proc(::opendir("/proc"), ::closedir);
    if (!proc) throw_errno("opendir /proc");
    while (const dirent* pid = ::readdir(proc.get())) {
        if (pid->d_name[0] < '0' || pid->d_name[0] > '9') continue;
        const std::string tasks = std::string("/proc/") + pid->d_name + "/task";
        std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(tasks.c_str()), ::closedir);
        if (!dir) continue;  // exited meanwhile
        while (const dirent* task = ::readdir(dir.get())) {
            if (task->d_name[0] < '0' || task->d_name[0] > '9') continue;
            struct stat st{};
            if (::fstatat(::dirfd(dir.get()), task->d_name, &st, 0) == 0 && st.st_uid == uid) ++n;
        }
    }
    return n;
}

NprocHeadroom plan_nproc_headroom(uid_t uid, std::uint64_t max_pids) {
    NprocHeadroom h;
    h.uid_tasks = count_tasks_of(uid);
    const std::uint64_t want = h.uid_tasks + max_pids;
    h.setting = clamp(wanted(RLIMIT_NPROC, "pids", max_pids, static_cast<rlim_t>(want), 0));
    return h;
}

}  // namespace aj::helper
