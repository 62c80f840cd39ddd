// System call names as libseccomp knows them on the native architecture (x86_64),
// and the expansion of policy entries (names and @groups) into syscall numbers.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace aj::policy {

// The syscall number on the native architecture; -1 when libseccomp does not know
// the name or it does not exist on this architecture.
int resolve_syscall(std::string_view name);
// A call as the filter saw it (seccomp_data's arch and nr), for people: the ABI's name
// ("x86_64", "i386", "x32"), the call's name on that ABI ("syscall N" when libseccomp
// knows none) and its number there (x32's without __X32_SYSCALL_BIT).
struct AbiCall {
    std::string arch;
    std::string name;
    int nr = -1;
};
AbiCall describe_call(std::uint32_t audit_arch, int nr);

// Every name that resolves on the native architecture (for suggestions).
const std::vector<std::string>& native_syscall_names();

// Checks one policy entry: a syscall name or a known "@group". Returns an empty string
// when valid, else the problem ("unknown system call \"ptrce\" (did you mean ptrace?)").
std::string check_syscall_entry(std::string_view entry);

// The syscall numbers that validated entries stand for (groups expanded recursively,
// members unknown to this libseccomp or absent on this architecture skipped).
std::set<int> expand_syscalls(const std::vector<std::string>& entries);

}  // namespace aj::policy
