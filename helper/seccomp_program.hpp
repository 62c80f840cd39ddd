// The seccomp program a sandbox loads: the one built into aurora-jail at build time when
// the policy asks for exactly the default's rules and the libseccomp build that compiled
// it is the one loaded now; otherwise compiled for this run. Compiling the default rules
// costs about as much CPU as the rest of the runner's start.
#pragma once

#include "policy/policy.hpp"
#include "policy/seccomp_compile.hpp"

namespace aj::helper {

// The built-in program is the default policy's supervised one (DenialDelivery::Supervisor).
policy::SeccompProgram seccomp_program_for(const policy::Policy& policy, policy::DenialDelivery delivery);

}  // namespace aj::helper
