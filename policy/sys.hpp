// Thin, honest syscall plumbing: an owning fd handle, EINTR retry, and checks that
// turn a failed call into an aj::Error naming the step and the errno.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <cerrno>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policy/error.hpp"

namespace aj::sys {

// Owns one file descriptor; closes it exactly once.
class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) noexcept : fd_(fd) {}
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        if (this != &other) reset(other.release());
        return *this;
    }
    ~UniqueFd() { reset(); }

    int get() const noexcept { return fd_; }
    bool valid() const noexcept { return fd_ >= 0; }
    explicit operator bool() const noexcept { return valid(); }
    int release() noexcept { return std::exchange(fd_, -1); }
    void reset(int fd = -1) noexcept;

private:
    int fd_ = -1;
};

// Calls f() until it does not fail with EINTR; returns its result.
template <typename F>
auto retry_eintr(F&& f) -> decltype(f()) {
    decltype(f()) rc;
    do {
        rc = f();
    } while (rc == -1 && errno == EINTR);
    return rc;
}

// Returns rc, or throws aj::Error("WHAT: ENAME (...)") when rc == -1.
template <typename T>
T check(T rc, std::string_view what) {
    if (rc == static_cast<T>(-1)) throw_errno(what);
    return rc;
}

// EINTR-retrying, error-checked helpers. `what` names the step for the message.
UniqueFd open_fd(const std::string& path, int flags, std::string_view what, int mode = 0);
void write_all(int fd, std::string_view data, std::string_view what);
// write_all for a pipe whose reader may have died: false (and no SIGPIPE, which would
// end this process without a word) when it has; throws on any other error.
bool write_unless_reader_gone(int fd, std::string_view data, std::string_view what);
// Copies `size` bytes of `from` (a regular file, from its offset; fewer if it ends first)
// to `to` in the kernel (sendfile(2): no user buffer); throws on error.
void send_file(int to, int from, std::size_t size, std::string_view what);
// Reads until EOF or max bytes; throws on error.
std::string read_all(int fd, std::size_t max, std::string_view what);
std::string read_file(const std::string& path, std::size_t max = 1 << 20);
void write_file(const std::string& path, std::string_view data);

// pidfd_open(2) and pidfd_send_signal(2) (no glibc wrappers on Debian 12): the raw
// result, -1 with errno set on failure. A pidfd names one process, never a reused pid.
int pidfd_open(pid_t pid) noexcept;
int pidfd_send_signal(int pidfd, int sig) noexcept;

// A pipe with O_CLOEXEC on both ends.
struct Pipe {
    UniqueFd read;
    UniqueFd write;
};
Pipe make_pipe(std::string_view what);

// The descriptors an SCM_RIGHTS message received by recvmsg carried, appended to `fds`
// (owned from here on; MSG_CMSG_CLOEXEC is the caller's to ask for).
void take_passed_fds(const msghdr& msg, std::vector<UniqueFd>& fds);

}  // namespace aj::sys
