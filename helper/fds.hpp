// File descriptors crossing into the sandbox: exactly stdin, stdout, stderr.
#pragma once

#include <vector>

namespace aj::helper {

// How the sandbox's 0-2 relate to the caller's (helper/stdio_relay.hpp).
enum class StdioMode {
    Relay,        // pipes or a new pseudo-terminal, relayed by the runner (the default)
    PassThrough,  // the caller's own open files (`run --pass-stdio`; weaker, SECURITY.md)
};

// What the sandbox gets as 0, 1, 2 (helper/stdio_relay.hpp decides): fds open in the
// runner, inherited by the clone, and the one of them (if any) that is the slave of the
// relay's pseudo-terminal, to become the command's controlling terminal.
struct SandboxStdio {
    int fds[3] = {0, 1, 2};
    int terminal = -1;
};

// Makes the chosen fds the process's 0, 1, 2 (safe when they overlap).
void install_stdio(const int (&stdio)[3]);
inline void install_stdio(const SandboxStdio& stdio) { install_stdio(stdio.fds); }

// The command's side, after setsid(): the relay's pseudo-terminal becomes its controlling
// terminal (job control and Ctrl-C inside work as in a login). Never for a caller's own
// terminal (pass-through mode): that would hand the sandbox the caller's tty again.
void take_controlling_terminal(const SandboxStdio& stdio);

// PID 1's side, once the command is forked: 0-2 become /dev/null, so that once every
// process that can write to the relay is gone the runner sees EOF without waiting for
// PID 1's own exit.
void release_stdio() noexcept;

// Closes every fd above 2 except those in `keep` (close_range over the gaps), so nothing
// the caller left open (a secret file, a socket, a terminal) is reachable inside.
void close_fds_except(std::vector<int> keep);

}  // namespace aj::helper
