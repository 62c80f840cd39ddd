#include "policy/sys.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <ctime>

namespace aj::sys {

void UniqueFd::reset(int fd) noexcept {
    if (fd_ >= 0) {
        // close() must not be retried on EINTR on Linux: the fd is gone either way.
        ::close(fd_);
    }
    fd_ = fd;
}

int pidfd_open(pid_t pid) noexcept { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

int pidfd_send_signal(int pidfd, int sig) noexcept {
    return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

UniqueFd open_fd(const std::string& path, int flags, std::string_view what, int mode) {
    int fd = retry_eintr([&] { return ::open(path.c_str(), flags | O_CLOEXEC, mode); });
    if (fd < 0) throw_errno(std::string(what) + ": " + path);
    return UniqueFd(fd);
}

namespace {

// Writes all of `data`; 0, or the errno of the write that failed.
int write_fully(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = retry_eintr([&] { return ::write(fd, data.data(), data.size()); });
        if (n < 0) return errno;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return 0;
}

}  // namespace

void write_all(int fd, std::string_view data, std::string_view what) {
    if (int err = write_fully(fd, data); err != 0) throw_errno(what, err);
}

bool write_unless_reader_gone(int fd, std::string_view data, std::string_view what) {
    // SIGPIPE is blocked in this thread for the write; a SIGPIPE the write itself raises
    // is then taken off the pending set, one already pending is left alone.
    sigset_t pipe_only, old;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    check(::pthread_sigmask(SIG_BLOCK, &pipe_only, &old) == 0 ? 0 : -1, "blocking SIGPIPE");
    sigset_t pending;
    sigpending(&pending);
    const bool was_pending = sigismember(&pending, SIGPIPE) == 1;
    const int err = write_fully(fd, data);
    if (err == EPIPE && !was_pending) {
        const timespec zero{};
        retry_eintr([&] { return ::sigtimedwait(&pipe_only, nullptr, &zero); });
    }
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (err == EPIPE) return false;
    if (err != 0) throw_errno(what, err);
    return true;
}

void send_file(int to, int from, std::size_t size, std::string_view what) {
    std::size_t sent = 0;
    while (sent < size) {
        ssize_t n = retry_eintr([&] { return ::sendfile(to, from, nullptr, size - sent); });
        if (n < 0) throw_errno(what);
        if (n == 0) return;  // the file shrank meanwhile: what it holds was copied
        sent += static_cast<std::size_t>(n);
    }
}

std::string read_all(int fd, std::size_t max, std::string_view what) {
    std::string out;
    char buf[8192];
    while (out.size() < max) {
        std::size_t want = std::min(sizeof buf, max - out.size());
        ssize_t n = retry_eintr([&] { return ::read(fd, buf, want); });
        if (n < 0) throw_errno(what);
        if (n == 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

std::string read_file(const std::string& path, std::size_t max) {
    UniqueFd fd = open_fd(path, O_RDONLY, "open");
    return read_all(fd.get(), max, "read " + path);
}

void write_file(const std::string& path, std::string_view data) {
    UniqueFd fd = open_fd(path, O_WRONLY, "open");
    write_all(fd.get(), data, "write " + path);
}

Pipe make_pipe(std::string_view what) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0) throw_errno(what);
    return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

void take_passed_fds(const msghdr& msg, std::vector<UniqueFd>& fds) {
    for (const cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(const_cast<msghdr*>(&msg), const_cast<cmsghdr*>(c))) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (std::size_t i = 0; i < count; ++i) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            fds.emplace_back(fd);
        }
    }
}

}  // namespace aj::sys
