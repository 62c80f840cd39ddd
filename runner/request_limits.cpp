#include "runner/request_limits.hpp"

#include <algorithm>

#include "helper/limits_plan.hpp"
#include "policy/error.hpp"

namespace aj::runner {

namespace {

[[noreturn]] void loosening(const std::string& field, std::uint64_t asked, const std::string& key,
                            std::uint64_t allowed, const std::string& who) {
    throw Error("request " + field + " " + std::to_string(asked) + " exceeds " + who + "'s policy (" + key +
                " " + std::to_string(allowed) + "); a request may only tighten the policy's limits");
}

}  // namespace

void tighten_memory(policy::Policy& policy, std::uint64_t memory_mb, const std::string& who) {
    if (memory_mb == 0) throw Error("memory_mb must be at least 1");
    if (policy.limits.memory_mb && memory_mb > *policy.limits.memory_mb)
        loosening("memory_mb", memory_mb, "max_memory_mb", *policy.limits.memory_mb, who);
    policy.limits.memory_mb = memory_mb;
}

RequestLimits tighten_only(const Request& request, const policy::Policy& policy, const std::string& plugin) {
    RequestLimits out;
    const std::string who = "plugin " + plugin;
    const auto& policy_timeout = policy.limits.timeout_sec;
    if (request.timeout_given) {
        if (policy_timeout && request.timeout_sec > *policy_timeout)
            loosening("timeout", request.timeout_sec, "timeout_sec", *policy_timeout, who);
        out.timeout_sec = request.timeout_sec;
    } else {
        out.timeout_sec = helper::queued_request_timeout(policy, request.timeout_sec);
    }
    if (request.memory_mb) {
        policy::Policy check = policy;
        tighten_memory(check, *request.memory_mb, who);
        out.memory_mb = request.memory_mb;
    }
    return out;
}

}  // namespace aj::runner
