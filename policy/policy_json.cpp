// Policy -> normalised JSON (every default written out), and its hash.
#include <sha2.h>

#include "policy/error.hpp"
#include "policy/limits_table.hpp"
#include "policy/parse.hpp"

namespace aj::policy {

nlohmann::json to_json(const Policy& p) {
    using json = nlohmann::json;
    json out = json::object();

    json paths = json::array();
    for (const auto& rule : p.allowed_paths)
        paths.push_back({{"path", rule.path}, {"mode", rule.mode == PathMode::ReadWrite ? "rw" : "ro"}});
    out["allowed_paths"] = std::move(paths);

    out["blocked_syscalls"] = p.blocked_syscalls;
    out["allowed_syscalls"] = p.allowed_syscalls ? json(*p.allowed_syscalls) : json(nullptr);

    switch (p.action.kind) {
    case BlockedAction::Errno: {
        std::string name = errno_name(p.action.errno_value);
        if (name.empty()) throw Error("policy: blocked_action errno " + std::to_string(p.action.errno_value) + " has no name");
        out["blocked_action"] = {{"action", "errno"}, {"errno", name}};
        break;
    }
    case BlockedAction::Kill: out["blocked_action"] = "kill"; break;
    case BlockedAction::Log: out["blocked_action"] = "log"; break;
    }
    out["default_deny"] = p.default_deny;

    for (const auto& lim : integer_limits()) {
        const auto& value = p.limits.*lim.field;
        out[std::string(lim.key)] = value ? json(*value) : json(nullptr);
    }
    out["max_cpus"] = p.limits.cpus ? json(*p.limits.cpus) : json(nullptr);

    out["network"] = p.network == NetworkMode::Host ? "host" : "none";
    out["hostname"] = p.hostname;
    out["environment"] = {{"pass", p.env.pass}, {"set", p.env.set}};
    out["allow_fallback"] = p.allow_fallback;
    out["system_view"] = p.system_view;
    return out;
}

std::string policy_sha256(const Policy& policy) {
    // Keys are sorted (nlohmann's object is a std::map) and the dump is compact, so
    // equal policies hash equal however their files were written.
    const std::string text = to_json(policy).dump();
    char hex[SHA256_DIGEST_STRING_LENGTH];
    SHA256Data(reinterpret_cast<const std::uint8_t*>(text.data()), text.size(), hex);
    return std::string(hex);
}

}  // namespace aj::policy
