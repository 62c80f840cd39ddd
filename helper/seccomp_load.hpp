// Loads the precompiled seccomp program: no libseccomp and no compilation in the child.
#pragma once

#include "policy/seccomp_compile.hpp"

namespace aj::helper {

// The last step before execve: PR_SET_NO_NEW_PRIVS must already be set. An empty program
// is refused (never run without the filter the policy asked for).
void load_seccomp(const policy::SeccompProgram& program);

}  // namespace aj::helper
