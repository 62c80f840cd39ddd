// Compiles a Policy's syscall rules into a seccomp BPF program with libseccomp.
// Done in the runner before any namespace exists; the sandbox only loads the result.
#pragma once

#include <linux/filter.h>

#include <optional>
#include <string>
#include <vector>

#include "policy/policy.hpp"

namespace aj::policy {

struct SeccompProgram {
    std::vector<sock_filter> instructions;
    // True when taken from the program built in at build time (helper/seccomp_program.hpp)
    // rather than compiled for this run.
    bool precompiled = false;
};

// Everything in a Policy that the seccomp program is compiled from: two policies with
// equal inputs get the same program from the same libseccomp build.
struct SeccompInputs {
    std::vector<std::string> blocked_syscalls;
    std::optional<std::vector<std::string>> allowed_syscalls;
    SyscallAction action;
    bool default_deny = true;
    bool operator==(const SeccompInputs&) const = default;
};
SeccompInputs seccomp_inputs(const Policy& policy);

SeccompProgram compile_seccomp(const Policy& policy);
// The GNU build id (hex) of the loaded binary that holds libseccomp's compiler: the
// shared libseccomp, or this executable when linked in. Empty when it carries none.
std::string seccomp_compiler_build_id();
// libseccomp's human-readable pseudo-filter code for the same program.
std::string seccomp_pseudo_code(const Policy& policy);

}  // namespace aj::policy
