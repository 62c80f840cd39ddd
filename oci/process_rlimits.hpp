// process.rlimits (runtime-spec): every type is parsed and applied exactly as given, soft
// and hard, under the sandbox's own limits as a ceiling (docs/oci.md, "Resource limits").
//
// Three ceilings, in this order:
//  1. the policy's (helper::policy_rlimits: data, cpu, open files, file size, pids, core
//     0) and the quota rlimits (helper/userns_quotas.hpp: message queues, pending
//     signals), known at create: a request above them is capped here, with a warning;
//  2. RLIMIT_DATA's, which the policy sets only where no memory cgroup holds memory_mb
//     (launch decides): create warns that it may apply, the child caps silently;
//  3. the hard limits the container inherits, only known in its process: capped there,
//     silently (helper::apply_requested_rlimits), since setrlimit cannot raise one.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "helper/rlimits.hpp"
#include "policy/policy.hpp"

namespace aj::oci {

// The config's process.rlimits: objects of `type` (RLIMIT_AS ... RLIMIT_STACK), `soft` and
// `hard` (unsigned 64-bit). Refused, naming the field: another key, an unknown type, a
// type listed twice, a value out of range, soft above hard. Throws aj::Error.
std::vector<helper::RlimitRequest> parse_process_rlimits(const nlohmann::json& rlimits);

// The requests as the config lists them (parse_process_rlimits reads them back).
nlohmann::json rlimits_to_json(const std::vector<helper::RlimitRequest>& requests);

// `requests` under the policy's limits (ceilings 1 and 2 above): each capped by ceiling 1,
// and one warning for each request a ceiling lowers or may lower, naming the type, what
// was asked and what applies.
std::vector<helper::RlimitRequest> cap_by_policy(const std::vector<helper::RlimitRequest>& requests,
                                                 const policy::Policy& policy, std::vector<std::string>& warnings);

}  // namespace aj::oci
