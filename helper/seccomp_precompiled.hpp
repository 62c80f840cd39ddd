// The default policy's supervised seccomp program (DenialDelivery::Supervisor), compiled
// at build time by helper/precompile/precompile_seccomp.cpp into the generated
// seccomp_precompiled.cpp.
#pragma once

#include <linux/filter.h>

#include <cstddef>

#include "policy/seccomp_unknown_numbers.hpp"

namespace aj::helper::precompiled {

// seccomp_compiler_build_id() of the libseccomp that compiled it ("" = none known: the
// program is then never used).
extern const char kDefaultProgramCompilerId[];
extern const sock_filter kDefaultProgram[];
extern const std::size_t kDefaultProgramLength;
// What policy::scan_known_syscall_numbers() found with that same libseccomp build.
extern const policy::KnownSyscallNumbers kKnownSyscallNumbers;

}  // namespace aj::helper::precompiled
