#include "runner/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <optional>

#include "helper/child_guard.hpp"
#include "policy/sys.hpp"
#include "policy/error.hpp"

extern char** environ;

namespace aj::runner {

namespace {

using helper::ChildGuard;
using sys::UniqueFd;
using Clock = std::chrono::steady_clock;

// Between fork and exec only async-signal-safe calls: the parent may be threaded.
[[noreturn]] void exec_child(char* const* argv, pid_t parent, int in_fd, int out_fd, int err_fd) {
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || ::getppid() != parent) ::_exit(125);
    ::setpgid(0, 0);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction dfl{};
    dfl.sa_handler = SIG_DFL;
    for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD}) ::sigaction(sig, &dfl, nullptr);
    if (::dup2(in_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(err_fd, 2) < 0) ::_exit(125);
    ::execve(argv[0], argv, environ);
    ::_exit(errno == ENOENT ? 127 : 126);
}

void append_bounded(std::string& buf, const char* data, std::size_t n, std::size_t max, bool& truncated) {
    std::size_t room = buf.size() < max ? max - buf.size() : 0;
    if (n > room) truncated = true;
    buf.append(data, std::min(n, room));
}

}  // namespace

CapturedRun run_captured(const std::vector<std::string>& argv, const CaptureLimits& limits) {
    if (argv.empty() || argv[0].empty() || argv[0][0] != '/')
        throw Error("run_captured: argv[0] must be an absolute path");
    std::vector<std::string> args = argv;
    std::vector<char*> argp;
    argp.reserve(args.size() + 1);
    for (auto& a : args) argp.push_back(a.data());
    argp.push_back(nullptr);

    UniqueFd devnull = sys::open_fd("/dev/null", O_RDONLY, "opening /dev/null");
    auto out = sys::make_pipe("stdout pipe");
    auto err = sys::make_pipe("stderr pipe");
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) throw_errno("fork for " + argv[0]);
    if (pid == 0) exec_child(argp.data(), parent, devnull.get(), out.write.get(), err.write.get());
    ChildGuard guard(pid);
    out.write.reset();
    err.write.reset();

    // A pidfd tells us the child exited even while a descendant keeps the pipes open.
    UniqueFd pidfd(sys::pidfd_open(pid));
    CapturedRun result;
    auto deadline = Clock::now() + limits.deadline;
    std::optional<Clock::time_point> drain_until;
    bool exited = false;
    while ((out.read || err.read) && !(drain_until && Clock::now() >= *drain_until)) {
        auto now = Clock::now();
        if (!result.killed_at_deadline && now >= deadline) {
            ::kill(pid, SIGKILL);  // not yet reaped: the pid is still ours
            result.killed_at_deadline = true;
            if (!drain_until) drain_until = now + std::chrono::seconds(1);
        }
        auto until = drain_until ? std::min(*drain_until, deadline) : deadline;
        if (result.killed_at_deadline) until = *drain_until;
        auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count();
        std::vector<pollfd> fds;
        if (out.read) fds.push_back({out.read.get(), POLLIN, 0});
        if (err.read) fds.push_back({err.read.get(), POLLIN, 0});
        if (pidfd && !exited) fds.push_back({pidfd.get(), POLLIN, 0});
        int n = ::poll(fds.data(), fds.size(), static_cast<int>(std::max<long long>(wait_ms, 0) + 1));
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_errno("poll on child output");
        }
        for (const auto& p : fds) {
            if (!p.revents) continue;
            if (p.fd == pidfd.get()) {
                exited = true;
                if (!drain_until) drain_until = Clock::now() + std::chrono::seconds(1);
                continue;
            }
            char buf[65536];
            ssize_t r = sys::retry_eintr([&] { return ::read(p.fd, buf, sizeof buf); });
            bool is_out = p.fd == out.read.get();
            if (r > 0) {
                if (is_out) append_bounded(result.out, buf, static_cast<std::size_t>(r), limits.max_stdout, result.out_truncated);
                else append_bounded(result.err, buf, static_cast<std::size_t>(r), limits.max_stderr, result.err_truncated);
            } else if (r == 0 || errno != EAGAIN) {
                (is_out ? out.read : err.read).reset();
            }
        }
    }
    // Reap. The pipes may have closed before the child exited: wait for it, still
    // bounded by the deadline.
    int status = 0;
    for (;;) {
        pid_t w = ::waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            guard.release();
            break;
        }
        if (w < 0) {
            if (errno == EINTR) continue;
            throw_errno("waitpid");
        }
        auto now = Clock::now();
        if (now >= deadline && !result.killed_at_deadline) {
            ::kill(pid, SIGKILL);
            result.killed_at_deadline = true;
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
        int wait_ms = result.killed_at_deadline ? 100 : static_cast<int>(std::max<long long>(left, 0) + 1);
        if (pidfd) {
            pollfd p{pidfd.get(), POLLIN, 0};
            ::poll(&p, 1, wait_ms);
        } else {
            ::usleep(10000);
        }
    }
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

}  // namespace aj::runner
