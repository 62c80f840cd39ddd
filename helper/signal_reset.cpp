#include "helper/signal_reset.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace aj::helper {
namespace {

// The SigIgn mask of /proc/self/status (bit N-1 for signal N), or false when it cannot
// be read or parsed.
bool read_ignored_mask(std::uint64_t& mask) {
    const int fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return false;
    char buf[4096];
    std::size_t used = 0;
    while (used < sizeof buf - 1) {
        const ssize_t n = ::read(fd, buf + used, sizeof buf - 1 - used);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        used += static_cast<std::size_t>(n);
    }
    ::close(fd);
    buf[used] = '\0';
    const char* line = std::strstr(buf, "\nSigIgn:\t");
    if (!line) return false;
    line += std::strlen("\nSigIgn:\t");
    char* end = nullptr;
    errno = 0;
    const unsigned long long value = std::strtoull(line, &end, 16);
    if (errno != 0 || end == line || *end != '\n') return false;
    mask = value;
    return true;
}

// SIG_DFL through the system call itself: glibc's signal() and sigaction() refuse the two
// real-time signals it keeps for its threads (32 and 33), which a caller may still have
// ignored. KILL and STOP answer EINVAL: they are never ignored anyway.
void set_default(int sig) noexcept {
    struct {
        void (*handler)(int);
        unsigned long flags;
        void (*restorer)();
        std::uint64_t mask;
    } action{SIG_DFL, 0, nullptr, 0};
    (void)::syscall(SYS_rt_sigaction, sig, &action, nullptr, sizeof action.mask);
}

}  // namespace

void reset_ignored_signals() noexcept {
    std::uint64_t ignored = 0;
    const bool known = read_ignored_mask(ignored);
    for (int sig = 1; sig < NSIG; ++sig) {
        const bool is_ignored = sig <= 64 && (ignored >> (sig - 1) & 1U) != 0;
        if (!known || is_ignored) set_default(sig);
    }
}

}  // namespace aj::helper
