#include "runner/cli_grants.hpp"

#include <sys/stat.h>

#include <cerrno>

#include "policy/error.hpp"
#include "runner/request_limits.hpp"
#include "runner/workdir.hpp"

namespace aj::runner {

namespace {

std::string shown(double cores) {
    std::string s = std::to_string(cores);
    while (s.ends_with('0')) s.pop_back();
    if (s.ends_with('.')) s.pop_back();
    return s;
}

}  // namespace

helper::ExtraBind parse_bind_argument(const std::string& arg, policy::PathMode mode, const std::string& option) {
    if (arg.empty()) throw Error(option + ": expected SRC[:DST], got an empty argument");
    const std::size_t split = arg.rfind(":/");
    const std::string src = split == std::string::npos || split == 0 ? arg : arg.substr(0, split);
    helper::ExtraBind b;
    b.mode = mode;
    b.host = absolute_normal(src, option);
    struct stat st {};
    if (::lstat(b.host.c_str(), &st) != 0) {
        const int err = errno;
        throw Error(option + " " + arg + ": " + b.host + " does not exist on the host (" + errno_name(err) + ")");
    }
    if (split == std::string::npos || split == 0) {
        b.inside = b.host;
    } else {
        b.inside = absolute_normal(arg.substr(split + 1), option);
        if (b.inside == "/")
            throw Error(option + " " + arg + ": DST / would cover the sandbox's whole file system; name a directory");
    }
    return b;
}

std::vector<helper::ExtraBind> apply_cli_grants(const CliGrants& grants, policy::Policy& policy) {
    std::vector<helper::ExtraBind> binds;
    for (const auto& arg : grants.ro_bind) binds.push_back(parse_bind_argument(arg, policy::PathMode::ReadOnly, "--ro-bind"));
    for (const auto& arg : grants.bind) binds.push_back(parse_bind_argument(arg, policy::PathMode::ReadWrite, "--bind"));
    if (grants.network == "host") policy.network = policy::NetworkMode::Host;
    else if (grants.network == "none") policy.network = policy::NetworkMode::None;
    else if (!grants.network.empty())
        throw Error("--network " + grants.network + ": expected host or none");
    if (grants.memory_mb) tighten_memory(policy, grants.memory_mb, "the run");
    if (grants.pids) {
        if (policy.limits.pids && grants.pids > *policy.limits.pids)
            throw Error("--pids " + std::to_string(grants.pids) + " exceeds the policy's max_pids " +
                        std::to_string(*policy.limits.pids) + "; the command line may only lower limits");
        policy.limits.pids = grants.pids;
    }
    if (grants.cpus > 0) {
        if (policy.limits.cpus && grants.cpus > *policy.limits.cpus)
            throw Error("--cpus " + shown(grants.cpus) + " exceeds the policy's max_cpus " + shown(*policy.limits.cpus) +
                        "; the command line may only lower limits");
        policy.limits.cpus = grants.cpus;
    }
    return binds;
}

nlohmann::json describe_cli_grants(const CliGrants& grants, const std::vector<helper::ExtraBind>& binds) {
    nlohmann::json out = nlohmann::json::object();
    if (!binds.empty()) {
        out["binds"] = nlohmann::json::array();
        for (const auto& b : binds)
            out["binds"].push_back({{"source", b.host},
                                    {"target", b.inside},
                                    {"mode", b.mode == policy::PathMode::ReadWrite ? "rw" : "ro"}});
    }
    if (!grants.network.empty()) out["network"] = grants.network;
    if (grants.memory_mb) out["max_memory_mb"] = grants.memory_mb;
    if (grants.cpus > 0) out["max_cpus"] = grants.cpus;
    if (grants.pids) out["max_pids"] = grants.pids;
    return out;
}

}  // namespace aj::runner
