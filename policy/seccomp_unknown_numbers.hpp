// System call numbers newer than the filter compiler. libseccomp knows the calls of the
// kernel it was released for; a deny-list filter would let every later call (the new
// mount API's open_tree_attr, say) reach the kernel unseen. So every compiled program
// starts with a short prefix answering each number above the newest one libseccomp
// knows, per ABI, with ENOSYS (the answer of a kernel without the call, which makes
// callers fall back) before libseccomp's own program runs, in every policy mode.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace aj::policy {

// The newest number libseccomp knows per ABI. x32 numbers carry __X32_SYSCALL_BIT; its
// calls shared with x86_64 end at x32_common_max, its own compat calls sit at 512-547.
struct KnownSyscallNumbers {
    std::uint32_t x86_64_max;
    std::uint32_t i386_max;
    std::uint32_t x32_common_max;
    std::uint32_t x32_max;
};
// Found by asking libseccomp about every number up to a ceiling (some 6000 lookups, a few
// milliseconds: each one scans its table), unless a value found earlier by the very same
// libseccomp build was given (use_known_syscall_numbers).
const KnownSyscallNumbers& known_syscall_numbers();

// The scan's result as the build step found it with the libseccomp build whose
// seccomp_compiler_build_id() is `compiler_build_id`: used instead of scanning while that
// exact build is the one loaded (its tables are part of its code), ignored otherwise. To
// be called before the first known_syscall_numbers().
void use_known_syscall_numbers(const KnownSyscallNumbers& numbers, std::string_view compiler_build_id);

// The scan itself, whatever was given.
KnownSyscallNumbers scan_known_syscall_numbers();

// What becomes of an i386 or x32 call whose number libseccomp knows.
enum class ForeignAbi {
    Kill,    // falls through to libseccomp's program, whose foreign-ABI action kills
    Notify,  // SECCOMP_RET_USER_NOTIF: the supervisor refuses it and names its ABI
};

// The prefix: falls through to the next instruction for every known native number
// (and, with ForeignAbi::Kill, every known foreign one). The native path is the same
// instructions either way.
std::vector<sock_filter> unknown_number_prefix(ForeignAbi foreign);

// What the prefix does, as comment lines for the pseudo-code listing.
std::string unknown_number_prefix_text(ForeignAbi foreign);

}  // namespace aj::policy
