// `run`'s quick grants (docs/policy.md, "Quick grants on the command line"): host paths
// bound for this run (--bind, --ro-bind), the network (--network) and lower limits
// (--memory, --cpus, --pids). Paths and the network add to what the policy shows, as the
// caller's own decision for this one run; limits may only tighten the policy's, like a
// queued request's (runner/request_limits.hpp): a larger limit takes a policy that says so.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "helper/launch.hpp"
#include "policy/policy.hpp"

namespace aj::runner {

struct CliGrants {
    std::vector<std::string> bind;     // SRC[:DST], read-write
    std::vector<std::string> ro_bind;  // SRC[:DST], read-only
    std::string network;               // "", "host" or "none"
    std::uint64_t memory_mb = 0;       // 0: not given
    double cpus = 0;                   // 0: not given
    std::uint64_t pids = 0;            // 0: not given

    bool empty() const { return bind.empty() && ro_bind.empty() && network.empty() && !memory_mb && !cpus && !pids; }
};

// SRC[:DST] -> a bind: SRC made absolute (relative to the cwd) and required to exist on the
// host; DST absolute, SRC when absent. The last ":/" separates DST, so a SRC holding ":/"
// needs an explicit DST. Throws aj::Error naming `option` and the argument.
helper::ExtraBind parse_bind_argument(const std::string& arg, policy::PathMode mode, const std::string& option);

// Applies the limits and the network to `policy` and returns the binds. Throws aj::Error
// (nothing has run) for a missing SRC or a limit above the policy's.
std::vector<helper::ExtraBind> apply_cli_grants(const CliGrants& grants, policy::Policy& policy);

// The report's "command_line_grants": what the options changed, as applied.
nlohmann::json describe_cli_grants(const CliGrants& grants, const std::vector<helper::ExtraBind>& binds);

}  // namespace aj::runner
