#include "helper/fds.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <string>

#include "policy/sys.hpp"

namespace aj::helper {

void install_stdio(const int (&stdio)[3]) {
    if (stdio[0] == 0 && stdio[1] == 1 && stdio[2] == 2) return;
    // Copy all three out of the way first: dup2 onto 0 must not clobber a source of 1 or 2.
    sys::UniqueFd copies[3];
    for (int i = 0; i < 3; ++i)
        copies[i] = sys::UniqueFd(sys::check(::fcntl(stdio[i], F_DUPFD_CLOEXEC, 3),
                                             "duplicating stdio fd " + std::to_string(stdio[i])));
    for (int i = 0; i < 3; ++i)
        sys::check(::dup2(copies[i].get(), i), "installing stdio fd " + std::to_string(i));
}

void take_controlling_terminal(const SandboxStdio& stdio) {
    if (stdio.terminal < 0) return;
    // 0-2 are installed by now: the terminal is the first of them that was the slave.
    for (int fd = 0; fd < 3; ++fd)
        if (stdio.fds[fd] == stdio.terminal) {
            sys::check(::ioctl(fd, TIOCSCTTY, 0), "making the relay's terminal controlling (TIOCSCTTY)");
            return;
        }
}

void release_stdio() noexcept {
    int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    for (int fd = 0; fd < 3; ++fd) {
        if (null >= 0) ::dup2(null, fd);
        else ::close(fd);
    }
    if (null > 2) ::close(null);
}

void close_fds_except(std::vector<int> keep) {
    std::sort(keep.begin(), keep.end());
    unsigned first = 3;
    for (int fd : keep) {
        if (fd < static_cast<int>(first)) continue;
        if (static_cast<unsigned>(fd) > first)
            sys::check(::close_range(first, static_cast<unsigned>(fd) - 1, 0), "closing inherited fds (close_range)");
        first = static_cast<unsigned>(fd) + 1;
    }
    sys::check(::close_range(first, UINT_MAX, 0), "closing inherited fds (close_range)");
}

}  // namespace aj::helper
