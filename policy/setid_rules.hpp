// Calls that could leave a set-user-ID or set-group-ID file behind, as data. A sandbox's
// run directory stays on the host after the run, where a set-uid file it planted would
// hand its owner's uid to whoever executes it there; so every mode (deny-list, allow-list,
// "log", default_deny off) refuses these calls with EPERM when their mode argument carries
// S_ISUID or S_ISGID (seccomp_compile.cpp applies them).
#pragma once

#include <fcntl.h>
#include <sys/stat.h>

#include <optional>
#include <string_view>
#include <vector>

namespace aj::policy {

struct SetidModeRule {
    std::string_view syscall;
    unsigned mode_arg;
    // For the open family: the mode only counts when the flags create a file (O_CREAT or
    // O_TMPFILE); without them the kernel ignores it and it may be garbage.
    std::optional<unsigned> flags_arg;
};

const std::vector<SetidModeRule>& setid_mode_rules();

// The mode bits refused, and the open flags under which a mode is used.
inline constexpr unsigned kSetidBits[] = {S_ISUID, S_ISGID};
// The kernel's own __O_TMPFILE bit: glibc's O_TMPFILE adds O_DIRECTORY, which alone
// creates nothing.
inline constexpr unsigned kKernelTmpfileFlag = 020000000;
inline constexpr unsigned kCreatingOpenFlags[] = {O_CREAT, kKernelTmpfileFlag};

// openat2 takes its flags and mode in a struct that seccomp cannot read: it is answered
// ENOSYS in every mode, which makes the C library and language runtimes fall back to
// openat, whose mode the rules above do see.
inline constexpr std::string_view kStructOpenSyscall = "openat2";

}  // namespace aj::policy
