#include "oci/foreground_wait.hpp"

#include <poll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "policy/error.hpp"
#include "policy/sys.hpp"

namespace aj::oci {

int exit_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 1;
}

int wait_forwarding(pid_t child, int signals, const std::function<void(int)>& forward, PollSide* side) {
    const sys::UniqueFd child_fd(sys::pidfd_open(child));
    if (!child_fd) throw_errno("watching process " + std::to_string(child));
    for (;;) {
        std::vector<pollfd> fds{{child_fd.get(), POLLIN, 0}, {signals, POLLIN, 0}};
        if (side) side->add_poll_fds(fds);
        if (::poll(fds.data(), fds.size(), -1) < 0) {
            if (errno == EINTR) continue;
            throw_errno("waiting for process " + std::to_string(child));
        }
        if (side) side->on_poll(fds, 2);
        if (fds[1].revents & POLLIN) {
            signalfd_siginfo info{};
            if (sys::retry_eintr([&] { return ::read(signals, &info, sizeof info); }) == sizeof info)
                forward(static_cast<int>(info.ssi_signo));
        }
        if (fds[0].revents != 0) {
            int status = 0;
            sys::check(static_cast<int>(sys::retry_eintr([&] { return ::waitpid(child, &status, 0); })),
                       "reaping process " + std::to_string(child));
            return exit_status(status);
        }
    }
}

}  // namespace aj::oci
