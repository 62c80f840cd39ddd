// What a namespaces-mode run really enforced, as the run report's "enforced" object.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "helper/limits_plan.hpp"
#include "helper/mount_plan.hpp"
#include "helper/userns.hpp"
#include "policy/policy.hpp"
#include "policy/seccomp_compile.hpp"

namespace aj::helper {

nlohmann::json describe_enforcement(const policy::Policy& policy, const policy::SeccompProgram& seccomp,
                                    int ns_flags, const LimitsPlan& limits_plan,
                                    const Identity& identity, const MountPlan& mounts);

}  // namespace aj::helper
