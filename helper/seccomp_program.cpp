#include "helper/seccomp_program.hpp"

#include <string_view>

#include "helper/seccomp_precompiled.hpp"
#include "policy/default_policy.hpp"

namespace aj::helper {

policy::SeccompProgram seccomp_program_for(const policy::Policy& policy, policy::DenialDelivery delivery) {
    const std::string_view built_with = precompiled::kDefaultProgramCompilerId;
    // The ENOSYS prefix's bounds as the build found them, valid for that libseccomp build
    // only (policy/seccomp_unknown_numbers.hpp): spares every run the scan.
    policy::use_known_syscall_numbers(precompiled::kKnownSyscallNumbers, built_with);
    if (!built_with.empty() && precompiled::kDefaultProgramLength > 0 &&
        policy::seccomp_inputs(policy, delivery) ==
            policy::seccomp_inputs(policy::default_policy(), policy::DenialDelivery::Supervisor) &&
        policy::seccomp_compiler_build_id() == built_with) {
        policy::SeccompProgram program;
        program.instructions.assign(precompiled::kDefaultProgram,
                                    precompiled::kDefaultProgram + precompiled::kDefaultProgramLength);
        program.precompiled = true;
        return program;
    }
    return policy::compile_seccomp(policy, delivery);
}

}  // namespace aj::helper
