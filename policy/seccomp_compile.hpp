// Compiles a Policy's syscall rules into a seccomp BPF program with libseccomp.
// Done in the runner before any namespace exists; the sandbox only loads the result.
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

#include "policy/policy.hpp"

namespace aj::policy {

struct SeccompProgram {
    std::vector<sock_filter> instructions;
};

SeccompProgram compile_seccomp(const Policy& policy);
// libseccomp's human-readable pseudo-filter code for the same program.
std::string seccomp_pseudo_code(const Policy& policy);

}  // namespace aj::policy
