// process.terminal and --console-socket, runc's protocol (docs/oci.md, "Terminals"): the
// container's process runs on a pseudo-terminal of the container's own devpts, and its
// master goes to the engine over the unix socket the engine names, once, in one message.
// The pieces are separate so that exec --tty can use them for a process entering a
// running container.
#pragma once

#include <string>

#include "helper/launch.hpp"
#include "helper/sandbox_terminal.hpp"

namespace aj::oci {

// process.consoleSize; 0 and 0: not set (the kernel's 0x0).
struct ConsoleSize {
    unsigned short height = 0;
    unsigned short width = 0;
    bool operator==(const ConsoleSize&) const = default;
};

// runc's rule for create (and exec, which detaches the same way): a terminal needs a
// console socket and a console socket needs a terminal. Throws aj::Error in runc's words.
void check_console_options(bool terminal, const std::string& console_socket);

// Connects to the unix stream socket at `socket_path` (absolute; one longer than a socket
// address holds is reached through /proc/self/fd) and sends `master` as runc does: one
// message, its payload the terminal's name, one SCM_RIGHTS descriptor. Throws aj::Error
// naming the socket.
void send_console_master(const std::string& socket_path, int master);

// The launch library's terminal for a container whose master goes to `socket_path`.
helper::SandboxTerminal container_terminal(const ConsoleSize& size, const std::string& socket_path);

// For a process entering a running container (exec --tty), called inside the container's
// mount namespace: a new pseudo-terminal of the container's own devpts (its /dev/pts).
helper::PtyPair make_container_pty(const ConsoleSize& size);

}  // namespace aj::oci
