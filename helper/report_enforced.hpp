// What a run really enforced, as one typed record. Each part is filled by the step that
// decided or set it up (the mode's recipe, the limits plan, the cgroup) and the whole is
// rendered once, by to_json(), as the run report's "enforced" object. Parts a mode does
// not have stay empty and are left out of the JSON.
#pragma once

#include <sys/resource.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "helper/limits_plan.hpp"
#include "helper/mount_plan.hpp"
#include "helper/userns.hpp"
#include "policy/policy.hpp"
#include "policy/seccomp_compile.hpp"

namespace aj::helper {

// One entry of "limits": the policy's value and what enforces it.
struct LimitRecord {
    LimitRecord() = default;
    LimitRecord(nlohmann::json value_, std::string backend_, std::optional<rlim_t> clamped_to_)
        : value(std::move(value_)), backend(std::move(backend_)), clamped_to(clamped_to_) {}
    nlohmann::json value = nullptr;    // the policy's number (in its unit), or null
    std::string backend = "none";      // "rlimit", "supervisor", "cgroup-v2", "cgroup-v1+rlimit"...
    std::optional<rlim_t> clamped_to;  // the caller's lower hard limit that won
    // "total", "per process", "approximate" (helper/limit_scopes.hpp has the words);
    // empty: not said.
    std::string scope;
    std::optional<bool> hit;  // whether the run passed it (said where it is known)
    nlohmann::json details = nlohmann::json::object();  // what the scope rests on, by name
    // How the run reached this limit ("cgroup pids.events max 3", "SIGXCPU"), with `hit`
    // true; empty: not said.
    std::string hit_by;
};

// "cgroup": whether one was made, how, and what it measured.
struct CgroupRecord {
    bool created = false;
    std::string reason;     // why none was created
    nlohmann::json layout;  // Cgroup::describe(): backends, directories, notes
    std::optional<std::uint64_t> memory_peak_bytes;
    bool oom_killed = false;
    std::optional<double> cpu_sec;
    std::optional<std::uint64_t> cpu_throttled_periods;  // max_cpus held it back this often
    bool cpu_time_exceeded = false;
    std::string placed_by;  // "clone3 CLONE_INTO_CGROUP" or "cgroup.procs"
};

// "seccomp": namespaces mode describes the rules, rlimit-only mode the size only.
struct SeccompRecord {
    std::size_t instructions = 0;
    // Refusals are answered by the supervisor and listed in the report's "denials"
    // (policy::needs_listener); false: the kernel answers them unreported.
    bool supervised = false;
    struct Rules {
        std::string mode;    // "allow-list" or "deny-list"
        std::string action;  // "errno:EPERM", "kill", "log"
        std::size_t count = 0;
        bool default_deny = false;
        bool precompiled = false;  // the program built in at build time
    };
    std::optional<Rules> rules;
    // rlimit-only mode: the filter standing in for the missing namespaces.
    std::optional<nlohmann::json> fallback_filter;
};

// "landlock" (rlimit-only mode): the path rules as applied.
struct LandlockRecord {
    int abi = 0;
    std::vector<std::string> rules;  // "PATH ro|rw"; empty without Landlock
    bool tcp_denied = false;
    bool ipc_scoped = false;
};

struct EnforcementRecord {
    std::vector<std::string> namespaces;
    bool no_new_privs = true;
    std::string capabilities;
    // Namespaces mode: the id maps; rlimit-only mode: a sentence naming who runs.
    std::optional<Identity> identity_map;
    std::string identity;
    SeccompRecord seccomp;
    std::map<std::string, LimitRecord> limits;
    // Namespaces mode.
    std::optional<std::string> network;
    std::optional<std::string> hostname;
    std::optional<std::vector<std::string>> filesystem;
    // rlimit-only mode.
    std::optional<LandlockRecord> landlock;
    std::optional<std::string> environment;
    std::optional<std::string> session;
    std::optional<std::vector<std::string>> not_enforced;
    // Either mode, filled by SandboxCgroup::finish().
    std::optional<CgroupRecord> cgroup;
    // Totals held by accounting (no cgroup for them): peaks, and whether one was passed.
    std::optional<nlohmann::json> accounting;
    // Processes of the sandbox (the command or any other) seen killed by SIGXCPU or
    // SIGXFSZ, by signal: the first one's command name, empty when not known
    // (helper/death_watch.hpp). Not rendered: note_limits_hit_by_end() names the limit.
    std::map<int, std::string> limit_signal_deaths;
};

// Records that the run reached limit `name` (a key of "limits": "pids", "cpu_sec"...),
// `evidence` saying how it shows, and says so on stderr as
// "aurora-jail: limit hit: max_pids 256 (cgroup pids.events max 3)" unless `quiet` (the
// caller printed its own line). `value` is the policy's number.
void note_limit_hit(EnforcementRecord& record, const std::string& name, const std::string& value,
                    const std::string& evidence, bool quiet = false);

// What the command's own end says about limits: killed by SIGXCPU (max_cpu_sec, one
// process's RLIMIT_CPU) or SIGXFSZ (max_file_size_mb), or timed out (timeout_sec); and,
// where the command did not die of it, another process of the sandbox killed by either
// signal (record.limit_signal_deaths).
void note_limits_hit_by_end(EnforcementRecord& record, const policy::Policy& policy, std::optional<int> signal,
                            bool timed_out, std::optional<std::uint64_t> timeout_sec);

// The rlimit part of "limits" plus the supervisor's timeout, from the plan.
void record_planned_limits(EnforcementRecord& record, const LimitsPlan& limits);

// Namespaces mode: everything but the cgroup.
EnforcementRecord describe_enforcement(const policy::Policy& policy, const policy::SeccompProgram& seccomp,
                                       int ns_flags, const LimitsPlan& limits_plan, const Identity& identity,
                                       const MountPlan& mounts);

// The run report's "enforced" object; with `full` false only its "cgroup" part (a run
// that writes no report skips describing the rest).
nlohmann::json to_json(const EnforcementRecord& record, bool full = true);

}  // namespace aj::helper
