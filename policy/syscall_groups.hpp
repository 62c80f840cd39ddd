// Named syscall groups ("@mount", "@privileged", ...), with the meaning systemd's
// SystemCallFilter= gives them, so policy authors can reuse names they already know.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace aj::policy {

struct SyscallGroup {
    std::string_view name;          // with the leading '@'
    std::string_view description;
    // System call names and nested "@group" names. Names this libseccomp does not know,
    // or that do not exist on the native architecture, are skipped when expanding
    // (the table is shared across architectures and kernel versions).
    std::vector<std::string_view> members;
};

const std::vector<SyscallGroup>& syscall_groups();
// nullptr when there is no such group.
const SyscallGroup* find_syscall_group(std::string_view name);
std::vector<std::string> syscall_group_names();

}  // namespace aj::policy
