#include "helper/supervisor.hpp"

#include <poll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vector>

#include "helper/channel.hpp"
#include "helper/exec.hpp"
#include "helper/seccomp_listener.hpp"
#include "helper/stdio_relay.hpp"

namespace aj::helper {

BlockedSignals::BlockedSignals(const sigset_t& set) {
    sys::check(::sigprocmask(SIG_BLOCK, &set, &old_), "blocking signals for forwarding");
    int fd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fd < 0) {
        int err = errno;
        ::sigprocmask(SIG_SETMASK, &old_, nullptr);
        throw_errno("signalfd", err);
    }
    fd_.reset(fd);
}

BlockedSignals::~BlockedSignals() {
    signalfd_siginfo info;
    while (::read(fd_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    }
    ::sigprocmask(SIG_SETMASK, &old_, nullptr);
}

namespace {

// What the supervision watches and signals.
struct Supervised {
    pid_t pid;           // the sandbox's PID 1, or (rlimit-only) the command
    bool whole_session;  // signals also go to the session (process group) pid leads
    int exit_fd;         // a pidfd whose readability ends the watch; -1: the report's EOF does
};

void signal_sandbox(const Supervised& s, int sig) {
    if (s.whole_session) ::kill(-s.pid, sig);
    ::kill(s.pid, sig);
}

// The loop both modes share: forward signals, enforce the wall timeout, collect the
// report channel's messages; returns after reaping the supervised process (or, with
// `until_over`, as soon as PID 1 reports the sandbox over). `relay` moves stdio meanwhile.
SandboxOutcome watch(const Supervised& s, sys::UniqueFd report, int signal_fd,
                     std::optional<std::uint64_t> timeout_sec, bool until_over, StdioRelay* relay,
                     CallSupervisor* calls) {
    using Clock = std::chrono::steady_clock;
    SandboxOutcome out;
    std::optional<Clock::time_point> deadline;
    if (timeout_sec) deadline = Clock::now() + std::chrono::seconds(*timeout_sec);
    std::string pending;
    bool exited = s.exit_fd < 0;

    while (report || !exited) {
        int wait_ms = -1;
        if (deadline && !out.timed_out) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now());
            if (left.count() <= 0) {
                // SIGKILL to PID 1 takes the whole pid namespace with it.
                signal_sandbox(s, SIGKILL);
                out.timed_out = true;
                continue;
            }
            wait_ms = static_cast<int>(std::min<long long>(left.count() + 1, 1 << 30));
        }
        // poll(2) skips negative fds: a closed report channel, an exit already seen.
        std::vector<pollfd> fds = {{report ? report.get() : -1, POLLIN, 0},
                                   {signal_fd, POLLIN, 0},
                                   {exited ? -1 : s.exit_fd, POLLIN, 0},
                                   {calls ? calls->fd() : -1, POLLIN, 0}};
        if (relay) relay->add_poll_fds(fds);
        int n = ::poll(fds.data(), fds.size(), wait_ms);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_errno("supervising the sandbox (poll)");
        }
        if (relay) relay->on_poll(fds);
        if (fds[1].revents & POLLIN) {
            signalfd_siginfo info;
            while (::read(signal_fd, &info, sizeof info) == static_cast<ssize_t>(sizeof info))
                signal_sandbox(s, static_cast<int>(info.ssi_signo));
        }
        if (fds[2].revents) exited = true;
        if (calls && fds[3].revents) calls->on_ready(fds[3].revents);
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            std::vector<sys::UniqueFd> passed;
            if (receive_report(report.get(), pending, passed) == 0) {
                report.reset();
                continue;
            }
            for (auto& m : take_messages(pending)) {
                switch (m.kind) {
                    case MessageKind::Listener:
                        // Without a supervisor the listener closes with `passed`: the
                        // kernel then answers delivered calls with ENOSYS.
                        if (calls && !passed.empty()) calls->adopt(std::move(passed.front()));
                        break;
                    case MessageKind::SetupError: out.setup_error = m.text; break;
                    case MessageKind::ExecError:
                        out.exec_errno = m.value;
                        out.exec_command = m.text;
                        break;
                    case MessageKind::Status:
                        out.command_status = m.value;
                        out.summary = decode_summary(m.text);
                        break;
                    case MessageKind::Terminal:
                        // Sent only on the launch's terminal channel (launch.cpp), never here.
                        break;
                }
            }
            if (until_over && out.command_status && out.summary && out.summary->last_one && !out.timed_out) {
                out.usage = out.summary->usage;
                return out;
            }
        }
    }

    pid_t rc = sys::retry_eintr([&] { return ::wait4(s.pid, &out.init_status, 0, &out.usage); });
    if (rc < 0) throw_errno("reaping the sandbox's init (wait4)");
    if (out.summary) out.usage = out.summary->usage;
    return out;
}

}  // namespace

SandboxOutcome supervise(pid_t init, sys::UniqueFd report, int signal_fd,
                         std::optional<std::uint64_t> timeout_sec, bool until_over, StdioRelay* relay,
                         CallSupervisor* calls) {
    return watch(Supervised{init, false, -1}, std::move(report), signal_fd, timeout_sec, until_over, relay, calls);
}

SandboxOutcome supervise_command(pid_t command, sys::UniqueFd report, int signal_fd,
                                 std::optional<std::uint64_t> timeout_sec, StdioRelay* relay) {
    sys::UniqueFd exit_fd(sys::pidfd_open(command));
    if (!exit_fd) throw_errno("pidfd_open for the command");
    SandboxOutcome out = watch(Supervised{command, true, exit_fd.get()}, std::move(report), signal_fd, timeout_sec,
                               /*until_over=*/false, relay, /*calls=*/nullptr);
    // No PID 1 reports for the command: its own wait status is the status, unless the
    // timeout's SIGKILL produced it.
    if (!out.command_status && !out.timed_out) out.command_status = out.init_status;
    return out;
}

LaunchResult to_result(const SandboxOutcome& o, const std::string& setup_prefix) {
    if (o.setup_error) throw Error(setup_prefix + ": " + *o.setup_error);
    if (o.exec_errno) {
        int code = exit_code_for_exec_errno(*o.exec_errno);
        if (code == kExitNotFound) throw Error(o.exec_command + ": not found", code, *o.exec_errno);
        throw Error(o.exec_command + ": cannot execute: " + errno_text(*o.exec_errno), code, *o.exec_errno);
    }
    LaunchResult r;
    auto seconds = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; };
    r.user_cpu_sec = seconds(o.usage.ru_utime);
    r.sys_cpu_sec = seconds(o.usage.ru_stime);
    if (o.command_status) {
        int st = *o.command_status;
        if (WIFSIGNALED(st)) {
            r.signal = WTERMSIG(st);
            r.exit_code = 128 + WTERMSIG(st);
        } else {
            r.exit_code = WEXITSTATUS(st);
        }
        return r;
    }
    if (o.timed_out) {
        r.timed_out = true;
        r.exit_code = kExitTimeout;
        return r;
    }
    const int st = o.init_status;
    throw Error("sandbox init ended without a report (" +
                (WIFSIGNALED(st) ? "signal " + std::to_string(WTERMSIG(st))
                                 : "exit " + std::to_string(WEXITSTATUS(st))) + ")");
}

}  // namespace aj::helper
