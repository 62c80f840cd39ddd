#include "helper/supervisor.hpp"

#include <poll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vector>

#include "helper/channel.hpp"
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

SandboxOutcome supervise(pid_t init, sys::UniqueFd report, int signal_fd,
                         std::optional<std::uint64_t> timeout_sec, bool until_over, StdioRelay* relay) {
    using Clock = std::chrono::steady_clock;
    SandboxOutcome out;
    std::optional<Clock::time_point> deadline;
    if (timeout_sec) deadline = Clock::now() + std::chrono::seconds(*timeout_sec);
    std::string pending;

    while (report) {
        int wait_ms = -1;
        if (deadline && !out.timed_out) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now());
            if (left.count() <= 0) {
                // SIGKILL to PID 1 takes the whole pid namespace with it.
                ::kill(init, SIGKILL);
                out.timed_out = true;
                continue;
            }
            wait_ms = static_cast<int>(std::min<long long>(left.count() + 1, 1 << 30));
        }
        std::vector<pollfd> fds = {{report.get(), POLLIN, 0}, {signal_fd, POLLIN, 0}};
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
                ::kill(init, static_cast<int>(info.ssi_signo));
        }
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            char buf[4096];
            ssize_t r = sys::retry_eintr([&] { return ::read(report.get(), buf, sizeof buf); });
            if (r < 0) throw_errno("reading the sandbox's report channel");
            if (r == 0) {
                report.reset();
                break;
            }
            pending.append(buf, static_cast<std::size_t>(r));
            for (auto& m : take_messages(pending)) {
                switch (m.kind) {
                    case MessageKind::SetupError: out.setup_error = m.text; break;
                    case MessageKind::ExecError:
                        out.exec_errno = m.value;
                        out.exec_command = m.text;
                        break;
                    case MessageKind::Status:
                        out.command_status = m.value;
                        out.summary = decode_summary(m.text);
                        break;
                }
            }
            if (until_over && out.command_status && out.summary && out.summary->last_one && !out.timed_out) {
                out.usage = out.summary->usage;
                return out;
            }
        }
    }

    pid_t rc = sys::retry_eintr([&] { return ::wait4(init, &out.init_status, 0, &out.usage); });
    if (rc < 0) throw_errno("reaping the sandbox's init (wait4)");
    if (out.summary) out.usage = out.summary->usage;
    return out;
}

}  // namespace aj::helper
