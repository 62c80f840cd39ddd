#include "oci/foreground_terminal.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "policy/error.hpp"
#include "runner/fd_passing.hpp"

namespace aj::oci {

ForegroundTerminal::ForegroundTerminal(const std::string& state_root) {
    // In the state root, which only the caller can reach: no one else may connect first
    // and hand run a terminal of theirs.
    std::string tmpl = state_root + "/.console-XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw_errno("creating run's console directory in " + state_root);
    dir_ = tmpl;
    socket_path_ = dir_ + "/console.sock";
    try {
        const sys::UniqueFd dir = sys::open_fd(dir_, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, "opening " + dir_);
        // Non-blocking: the one connection is queued before create returns; none then is an
        // error, not a wait.
        listener_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
        if (!listener_) throw_errno("creating run's console socket");
        // Bound through the directory's fd: a deep --root does not fit sun_path.
        const std::string address = "/proc/self/fd/" + std::to_string(dir.get()) + "/console.sock";
        sockaddr_un sun{};
        sun.sun_family = AF_UNIX;
        std::memcpy(sun.sun_path, address.c_str(), address.size() + 1);
        sys::check(::bind(listener_.get(), reinterpret_cast<const sockaddr*>(&sun), sizeof sun),
                   "binding run's console socket " + socket_path_);
        sys::check(::listen(listener_.get(), 1), "listening on run's console socket");
    } catch (...) {
        (void)::unlink(socket_path_.c_str());
        (void)::rmdir(dir_.c_str());
        throw;
    }
}

ForegroundTerminal::~ForegroundTerminal() {
    if (saved_) (void)::tcsetattr(STDIN_FILENO, TCSADRAIN, &*saved_);
    (void)::unlink(socket_path_.c_str());
    (void)::rmdir(dir_.c_str());
}

void ForegroundTerminal::take_master() {
    // The monitor connected and sent before create returned: the connection is queued.
    const sys::UniqueFd conn(sys::retry_eintr([&] { return ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC); }));
    if (!conn) throw_errno("accepting the container's terminal on run's console socket");
    std::vector<sys::UniqueFd> fds;
    (void)runner::recv_with_fds(conn.get(), 4096, fds, "receiving the container's terminal");
    if (fds.size() != 1) throw Error("run's console socket: expected one terminal, got " + std::to_string(fds.size()));
    master_ = std::move(fds[0]);
    listener_.reset();
    if (::isatty(STDIN_FILENO)) {
        termios saved{};
        if (::tcgetattr(STDIN_FILENO, &saved) == 0) {
            termios raw = saved;
            ::cfmakeraw(&raw);
            if (::tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) == 0) saved_ = saved;
        }
    }
    resize();
}

void ForegroundTerminal::resize() {
    winsize size{};
    if (master_ && ::ioctl(STDIN_FILENO, TIOCGWINSZ, &size) == 0) (void)::ioctl(master_.get(), TIOCSWINSZ, &size);
}

namespace {

// One read's worth of `fd`; nothing at EOF or on an error (the master's EIO: no process
// holds the terminal's other end any more).
std::optional<std::string> read_some(int fd) {
    char buf[4096];
    const ssize_t n = sys::retry_eintr([&] { return ::read(fd, buf, sizeof buf); });
    if (n <= 0) return std::nullopt;
    return std::string(buf, static_cast<std::size_t>(n));
}

// Writes `data` to `fd`; false when that fails (a reader gone, a terminal hung up): the
// relay then stops that direction rather than end run, whose status is the container's.
bool write_some(int fd, const std::string& data) {
    try {
        return sys::write_unless_reader_gone(fd, data, "relaying the container's terminal");
    } catch (const Error&) {
        return false;
    }
}

}  // namespace

void ForegroundTerminal::add_poll_fds(std::vector<pollfd>& fds) {
    fds.push_back({reading_stdin_ && master_ ? STDIN_FILENO : -1, POLLIN, 0});
    fds.push_back({master_ ? master_.get() : -1, POLLIN, 0});
}

void ForegroundTerminal::on_poll(const std::vector<pollfd>& fds, std::size_t first) {
    if (fds[first].fd >= 0 && fds[first].revents != 0) {
        const std::optional<std::string> keys = read_some(STDIN_FILENO);
        if (!keys || !write_some(master_.get(), *keys)) reading_stdin_ = false;
    }
    if (fds[first + 1].fd >= 0 && fds[first + 1].revents != 0) relay_output();
}

void ForegroundTerminal::relay_output() {
    const std::optional<std::string> output = read_some(master_.get());
    if (!output) {
        master_.reset();  // the output is over
        return;
    }
    // Read on when stdout is gone: a container writing to its terminal must not block.
    if (writing_stdout_ && !write_some(STDOUT_FILENO, *output)) writing_stdout_ = false;
}

void ForegroundTerminal::finish() {
    while (master_) {
        pollfd p{master_.get(), POLLIN, 0};
        if (sys::retry_eintr([&] { return ::poll(&p, 1, 0); }) <= 0) break;
        relay_output();
    }
    master_.reset();
}

}  // namespace aj::oci
