#include "oci/console.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

#include "policy/error.hpp"
#include "policy/sys.hpp"
#include "runner/fd_passing.hpp"

namespace aj::oci {

namespace {

// The name the engine reads with the descriptor (containerd's shim names its file after
// it; conmon ignores it): the master's, as runc sends it.
constexpr const char* kMasterName = "/dev/ptmx";

sys::UniqueFd connect_console_socket(const std::string& path) {
    if (path.empty() || path[0] != '/') throw Error("--console-socket " + path + ": not an absolute path");
    sys::UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!sock) throw_errno("creating a socket for --console-socket");
    // A long path (an engine's run directory) does not fit sun_path: the socket is then
    // opened as a path and reached through its /proc/self/fd link, which connect follows.
    sys::UniqueFd by_path;
    std::string address = path;
    sockaddr_un sun{};
    if (address.size() >= sizeof sun.sun_path) {
        by_path = sys::open_fd(path, O_PATH | O_CLOEXEC, "opening --console-socket " + path);
        address = "/proc/self/fd/" + std::to_string(by_path.get());
    }
    sun.sun_family = AF_UNIX;
    std::memcpy(sun.sun_path, address.c_str(), address.size() + 1);
    if (sys::retry_eintr([&] { return ::connect(sock.get(), reinterpret_cast<const sockaddr*>(&sun), sizeof sun); }) != 0)
        throw_errno("connecting to --console-socket " + path);
    return sock;
}

}  // namespace

void check_console_options(bool terminal, const std::string& console_socket) {
    if (terminal && console_socket.empty())
        throw Error("cannot allocate tty if runc will detach without setting console socket");
    if (!terminal && !console_socket.empty())
        throw Error("cannot use console socket if runc will not detach or allocate tty");
}

void send_console_master(const std::string& socket_path, int master) {
    const sys::UniqueFd sock = connect_console_socket(socket_path);
    const int fds[1] = {master};
    runner::send_with_fds(sock.get(), kMasterName, fds, "sending the terminal to --console-socket " + socket_path);
}

helper::SandboxTerminal container_terminal(const ConsoleSize& size, const std::string& socket_path) {
    helper::SandboxTerminal terminal;
    terminal.rows = size.height;
    terminal.cols = size.width;
    // The monitor holds the master only for this call: from here on only the engine does.
    terminal.on_master = [socket_path](sys::UniqueFd master) { send_console_master(socket_path, master.get()); };
    return terminal;
}

helper::PtyPair make_container_pty(const ConsoleSize& size) {
    return helper::open_devpts_pty("/dev/pts", size.height, size.width);
}

}  // namespace aj::oci
