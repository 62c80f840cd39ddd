#include "runner/fd_passing.hpp"

#include <sys/socket.h>

#include <cstring>

#include "policy/error.hpp"

namespace aj::runner {

namespace {

// Room for this many descriptors in one message: the launcher's orders carry three.
constexpr std::size_t kMaxFds = 8;

}  // namespace

void send_with_fds(int sock, std::string_view data, std::span<const int> fds, std::string_view what) {
    if (data.empty()) throw Error(std::string(what) + ": nothing to send");
    if (fds.size() > kMaxFds) throw Error(std::string(what) + ": too many descriptors");
    iovec iov{const_cast<char*>(data.data()), data.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
    if (!fds.empty()) {
        msg.msg_control = control;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    const ssize_t n = sys::retry_eintr([&] { return ::sendmsg(sock, &msg, MSG_NOSIGNAL); });
    if (n < 0) throw_errno(what);
    // A stream socket may take part of the bytes; the descriptors went with the first.
    if (static_cast<std::size_t>(n) < data.size()) sys::write_all(sock, data.substr(static_cast<std::size_t>(n)), what);
}

std::string recv_with_fds(int sock, std::size_t max, std::vector<sys::UniqueFd>& fds, std::string_view what) {
    std::string data(max, '\0');
    iovec iov{data.data(), data.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = sys::retry_eintr([&] { return ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC); });
    if (n < 0) throw_errno(what);
    sys::take_passed_fds(msg, fds);
    if (msg.msg_flags & MSG_CTRUNC) throw Error(std::string(what) + ": more descriptors than expected");
    if (msg.msg_flags & MSG_TRUNC) throw Error(std::string(what) + ": message larger than " + std::to_string(max) + " bytes");
    data.resize(static_cast<std::size_t>(n));
    return data;
}

}  // namespace aj::runner
