// process.rlimits -> helper::RlimitRequest, capped by the policy (oci/process_rlimits.hpp).
#include "oci/process_rlimits.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>

#include "helper/userns_quotas.hpp"
#include "policy/error.hpp"

namespace aj::oci {

using nlohmann::json;

namespace {

[[noreturn]] void refuse(const std::string& field, const std::string& why) {
    throw Error("config.json: " + field + ": " + why);
}

struct RlimitType {
    const char* name;
    int resource;
};

// Every type of the runtime-spec (its "POSIX platform" list, Linux's values).
constexpr RlimitType kTypes[] = {
    {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_CORE", RLIMIT_CORE},       {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},       {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},   {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},   {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

rlim_t limit_at(const json& entry, const char* key, const std::string& type) {
    const std::string field = "process.rlimits " + type + " " + key;
    if (!entry.contains(key)) refuse(field, "missing");
    const json& v = entry.at(key);
    // Parsed text holds non-negative numbers as unsigned; a built json may hold them signed.
    if (!v.is_number_integer() || (!v.is_number_unsigned() && v.get<std::int64_t>() < 0))
        refuse(field, "must be an integer from 0 to 18446744073709551615");
    return v.is_number_unsigned() ? v.get<std::uint64_t>() : static_cast<std::uint64_t>(v.get<std::int64_t>());
}

std::string pair_text(rlim_t soft, rlim_t hard) { return std::to_string(soft) + "/" + std::to_string(hard); }

// The policy's setting of `resource` before any clamp, if it has one.
std::optional<helper::RlimitSetting> policy_setting(int resource, const policy::Policy& policy, bool memory_in_cgroup) {
    for (const helper::RlimitSetting& s :
         helper::policy_rlimits(policy, helper::RlimitScope::OwnUserNamespace, memory_in_cgroup))
        if (s.resource == resource) return s;
    return std::nullopt;
}

struct Ceiling {
    rlim_t soft = 0, hard = 0;
    std::string why;  // whose limit it is
};

// Ceiling 1 for `resource`, if the sandbox has one (RLIMIT_DATA's is ceiling 2).
std::optional<Ceiling> ceiling_for(int resource, const policy::Policy& policy) {
    if (const auto s = policy_setting(resource, policy, /*memory_in_cgroup=*/true))
        return Ceiling{s->soft, s->hard,
                       resource == RLIMIT_CORE ? std::string("no core dumps from a sandbox")
                                               : "the policy's " + s->name + " " + std::to_string(s->requested)};
    for (const helper::QuotaRlimit& q : helper::kQuotaRlimits)
        if (q.resource == resource)
            return Ceiling{static_cast<rlim_t>(q.value), static_cast<rlim_t>(q.value),
                           std::string("the sandbox's quota of its host uid's ") + q.name};
    return std::nullopt;
}

}  // namespace

std::vector<helper::RlimitRequest> parse_process_rlimits(const json& rlimits) {
    if (!rlimits.is_array()) refuse("process.rlimits", "must be an array");
    std::vector<helper::RlimitRequest> out;
    std::set<std::string> listed;
    for (const json& entry : rlimits) {
        if (!entry.is_object()) refuse("process.rlimits[]", "must be an object");
        for (const auto& [key, value] : entry.items())
            if (key != "type" && key != "soft" && key != "hard")
                refuse("process.rlimits[]." + key, "not supported by aurora-runc yet (docs/oci.md)");
        if (!entry.contains("type") || !entry.at("type").is_string())
            refuse("process.rlimits[].type", "must be a string");
        const std::string type = entry.at("type").get<std::string>();
        const auto known = std::find_if(std::begin(kTypes), std::end(kTypes),
                                        [&](const RlimitType& t) { return type == t.name; });
        if (known == std::end(kTypes)) refuse("process.rlimits " + type, "not a runtime-spec rlimit type");
        if (!listed.insert(type).second) refuse("process.rlimits " + type, "listed twice");
        helper::RlimitRequest r{known->resource, type, limit_at(entry, "soft", type), limit_at(entry, "hard", type)};
        if (r.soft > r.hard) refuse("process.rlimits " + type, "soft " + pair_text(r.soft, r.hard) + ": soft above hard");
        out.push_back(std::move(r));
    }
    return out;
}

json rlimits_to_json(const std::vector<helper::RlimitRequest>& requests) {
    json out = json::array();
    for (const auto& r : requests) out.push_back({{"type", r.name}, {"soft", r.soft}, {"hard", r.hard}});
    return out;
}

std::vector<helper::RlimitRequest> cap_by_policy(const std::vector<helper::RlimitRequest>& requests,
                                                 const policy::Policy& policy, std::vector<std::string>& warnings) {
    std::vector<helper::RlimitRequest> out;
    for (const helper::RlimitRequest& r : requests) {
        const std::string asked = "process.rlimits " + r.name + " " + pair_text(r.soft, r.hard);
        if (const std::optional<Ceiling> c = ceiling_for(r.resource, policy)) {
            out.push_back(helper::cap_rlimit_request(r, c->soft, c->hard));
            if (!(out.back() == r))
                warnings.push_back(asked + ": " + pair_text(out.back().soft, out.back().hard) + " applies (" + c->why +
                                   "; a config may only lower the sandbox's limits)");
            continue;
        }
        out.push_back(r);
        const auto data = r.resource == RLIMIT_DATA ? policy_setting(RLIMIT_DATA, policy, false) : std::nullopt;
        if (!data) continue;
        const helper::RlimitRequest capped = helper::cap_rlimit_request(r, data->soft, data->hard);
        if (!(capped == r))
            warnings.push_back(asked + ": " + pair_text(capped.soft, capped.hard) +
                               " applies where no memory cgroup holds the policy's memory_mb " +
                               std::to_string(data->requested) + " (its RLIMIT_DATA backstop; a config may only lower it)");
    }
    return out;
}

}  // namespace aj::oci
