// The final execve, with the command resolved via the sandbox's PATH.
#pragma once

#include <string>
#include <vector>

namespace aj::helper {

// Returns only on failure, with the errno that describes it best (like execvp: EACCES
// from any PATH entry wins over a later ENOENT). No shell fallback for ENOEXEC.
int exec_command(const std::vector<std::string>& argv, const std::vector<std::string>& env);

// 127 for "not found" errnos, 126 for everything else (timeout(1), podman, docker).
int exit_code_for_exec_errno(int err);

}  // namespace aj::helper
