// File descriptors crossing into the sandbox: exactly stdin, stdout, stderr.
#pragma once

#include <vector>

namespace aj::helper {

// Makes the caller-chosen fds the process's 0, 1, 2 (safe when they overlap).
void install_stdio(const int (&stdio)[3]);

// Closes every fd above 2 except those in `keep` (close_range over the gaps), so nothing
// the caller left open (a secret file, a socket, a terminal) is reachable inside.
void close_fds_except(std::vector<int> keep);

}  // namespace aj::helper
