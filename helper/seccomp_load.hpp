// Loads the precompiled seccomp program: no libseccomp and no compilation in the child.
#pragma once

#include "policy/seccomp_compile.hpp"
#include "policy/sys.hpp"

namespace aj::helper {

// The last step before execve: PR_SET_NO_NEW_PRIVS must already be set. An empty program
// is refused (never run without the filter the policy asked for). A program that
// delivers refusals (policy::needs_listener) is loaded with a new listener, returned
// close-on-exec: it must reach the supervisor outside and never the command (a process
// holding it could answer its own calls). Otherwise the result is empty.
sys::UniqueFd load_seccomp(const policy::SeccompProgram& program);

}  // namespace aj::helper
