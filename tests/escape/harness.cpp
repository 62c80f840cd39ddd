#include "tests/escape/harness.hpp"

#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "policy/sys.hpp"
#include "policy/error.hpp"

extern char** environ;

namespace aj::escape {

namespace {

[[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error(what + ": " + errno_name(errno));
}

}  // namespace

ProbeOutput parse_probe_output(std::string_view out) {
    ProbeOutput r;
    std::istringstream in{std::string(out)};
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string tag;
        words >> tag;
        if (tag == "ATTACK") {
            std::string name;
            Verdict v;
            words >> name >> v.status;
            std::getline(words, v.detail);
            if (!v.detail.empty() && v.detail.front() == ' ') v.detail.erase(0, 1);
            r.attacks[name] = v;
        } else if (tag == "SUMMARY") {
            // SUMMARY escaped=N blocked=M skipped=K
            std::string field;
            int seen = 0;
            while (words >> field) {
                auto eq = field.find('=');
                if (eq == std::string::npos) continue;
                const std::string key = field.substr(0, eq), value = field.substr(eq + 1);
                int* slot = key == "escaped" ? &r.escaped : key == "blocked" ? &r.blocked
                          : key == "skipped" ? &r.skipped : nullptr;
                if (!slot || value.empty() || value.find_first_not_of("0123456789") != std::string::npos)
                    continue;
                *slot = std::stoi(value);
                ++seen;
            }
            r.summary_seen = seen == 3;
        }
    }
    return r;
}

HostTarget::HostTarget(uid_t uid, gid_t gid, const std::string& comm) {
    pid_ = ::fork();
    if (pid_ < 0) fail("fork host target");
    if (pid_ == 0) {
        ::prctl(PR_SET_NAME, comm.c_str(), 0, 0, 0);
        ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        if (::getuid() != uid) {
            if (::setgroups(0, nullptr) != 0 || ::setresgid(gid, gid, gid) != 0 ||
                ::setresuid(uid, uid, uid) != 0)
                ::_exit(70);
        }
        for (;;) ::pause();
    }
}

HostTarget::~HostTarget() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {}
    }
}

std::string HostTarget::check_untouched() const {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) return "host target died (status " + std::to_string(status) + ")";
    std::ifstream st("/proc/" + std::to_string(pid_) + "/status");
    std::string line;
    while (std::getline(st, line))
        if (line.rfind("TracerPid:", 0) == 0 && line.find_first_not_of(" \t0", 10) != std::string::npos)
            return "host target is being traced: " + line;
    return "";
}

TcpListener::TcpListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) fail("socket");
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(fd_, 8) != 0)
        fail("bind/listen 127.0.0.1");
    socklen_t len = sizeof sa;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
    port_ = ntohs(sa.sin_port);
}

TcpListener::~TcpListener() { ::close(fd_); }

bool TcpListener::had_connection() const {
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c >= 0) ::close(c);
    return c >= 0;
}

AbstractUnixListener::AbstractUnixListener() : name_("aj-escape-" + random_hex(16)) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) fail("socket(AF_UNIX)");
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path + 1, name_.data(), name_.size());
    auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name_.size());
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&sa), len) != 0 || ::listen(fd_, 8) != 0)
        fail("bind/listen @" + name_);
}

AbstractUnixListener::~AbstractUnixListener() { ::close(fd_); }

bool AbstractUnixListener::had_connection() const {
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c >= 0) ::close(c);
    return c >= 0;
}

CallerTerminal::CallerTerminal() {
    master_ = sys::UniqueFd(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!master_ || ::grantpt(master_.get()) != 0 || ::unlockpt(master_.get()) != 0) fail("posix_openpt");
    slave_path_ = ::ptsname(master_.get());
    slave_ = sys::open_fd(slave_path_, O_RDWR | O_NOCTTY, "opening the caller's terminal");
    struct stat st {};
    if (::fstat(slave_.get(), &st) != 0 || ::tcgetattr(slave_.get(), &before_) != 0) fail("inspecting " + slave_path_);
    rdev_ = st.st_rdev;
}

std::string CallerTerminal::check_unchanged() const {
    std::string problems;
    int exclusive = 0, ldisc = -1;
    if (::ioctl(slave_.get(), TIOCGEXCL, &exclusive) == 0 && exclusive)
        problems += "the caller's terminal was left in exclusive mode (TIOCEXCL); ";
    if (::ioctl(slave_.get(), TIOCGETD, &ldisc) == 0 && ldisc != N_TTY)
        problems += "the caller's terminal has line discipline " + std::to_string(ldisc) + " instead of N_TTY; ";
    termios now{};
    if (::tcgetattr(slave_.get(), &now) == 0 &&
        (now.c_iflag != before_.c_iflag || now.c_oflag != before_.c_oflag || now.c_cflag != before_.c_cflag ||
         now.c_lflag != before_.c_lflag || std::memcmp(now.c_cc, before_.c_cc, sizeof now.c_cc) != 0))
        problems += "the caller's terminal settings (termios) were left changed; ";
    return problems;
}

test::ProcessResult run_with_tty(const CallerTerminal& tty, const std::vector<std::string>& argv,
                                 const std::vector<std::string>& extra_env, int timeout_sec,
                                 const std::string& stderr_log) {
    const int master = tty.master();
    const std::string& slave_path = tty.slave_path();
    auto out = sys::make_pipe("stdout pipe");
    auto err = sys::make_pipe("stderr pipe");
    sys::UniqueFd log;
    if (!stderr_log.empty()) {
        log = sys::open_fd(stderr_log, O_WRONLY | O_APPEND, "opening the caller's log");
        ::fcntl(log.get(), F_SETFD, 0);  // the child's fd 2, as `2>> log` gives it
    }

    // Everything exec needs is built before fork: the child only makes syscalls.
    std::vector<std::string> env_store;
    for (char** e = environ; *e; ++e) env_store.emplace_back(*e);
    env_store.insert(env_store.end(), extra_env.begin(), extra_env.end());
    std::vector<char*> envp, args;
    for (auto& e : env_store) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<std::string> argv_store = argv;
    for (auto& a : argv_store) args.push_back(a.data());
    args.push_back(nullptr);

    pid_t pid = ::fork();
    if (pid < 0) fail("fork");
    if (pid == 0) {
        ::setsid();
        int slave = ::open(slave_path.c_str(), O_RDWR);  // becomes the controlling tty
        if (slave < 0 || ::ioctl(slave, TIOCSCTTY, 0) != 0) ::_exit(126);
        ::dup2(slave, 0);
        ::dup2(out.write.get(), 1);
        ::dup2(log ? log.get() : err.write.get(), 2);
        ::execve(args[0], args.data(), envp.data());
        ::_exit(127);
    }
    out.write.reset();
    err.write.reset();
    if (log) err.read.reset();
    log.reset();
    test::ProcessResult result;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_sec);
    bool killed = false;
    while (out.read || err.read) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now()).count();
        if (left <= 0) {
            if (killed) break;
            ::kill(-pid, SIGKILL);
            ::kill(pid, SIGKILL);
            killed = true;
            deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
            continue;
        }
        std::vector<pollfd> fds;
        if (out.read) fds.push_back({out.read.get(), POLLIN, 0});
        if (err.read) fds.push_back({err.read.get(), POLLIN, 0});
        fds.push_back({master, POLLIN, 0});  // drained so the terminal never blocks
        if (::poll(fds.data(), fds.size(), static_cast<int>(left)) < 0 && errno != EINTR) fail("poll");
        for (auto& p : fds) {
            if (!p.revents) continue;
            char buf[8192];
            ssize_t n = ::read(p.fd, buf, sizeof buf);
            if (p.fd == master) continue;
            bool is_out = out.read && p.fd == out.read.get();
            if (n > 0) {
                (is_out ? result.out : result.err).append(buf, static_cast<std::size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                if (is_out) out.read.reset(); else err.read.reset();
            }
        }
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (!stderr_log.empty()) result.err = sys::read_file(stderr_log, 1 << 20);
    if (killed) result.err += "\n[escape harness: killed after " + std::to_string(timeout_sec) + " s]";
    return result;
}

void write_bytes(const std::string& path, std::string_view bytes, mode_t mode) {
    ::unlink(path.c_str());
    auto fd = sys::open_fd(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, "create", static_cast<int>(mode & 07777));
    sys::write_all(fd.get(), std::string(bytes), "write " + path);
    if (::fchmod(fd.get(), mode) != 0) fail("fchmod " + path);
}

std::string random_hex(std::size_t n) {
    std::ifstream in("/dev/urandom", std::ios::binary);
    std::string s;
    static const char* digits = "0123456789abcdef";
    while (s.size() < n) {
        unsigned char c = 0;
        in.read(reinterpret_cast<char*>(&c), 1);
        s.push_back(digits[c & 15]);
    }
    return s;
}

}  // namespace aj::escape
