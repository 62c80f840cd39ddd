#include "helper/channel.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "policy/error.hpp"

namespace aj::helper {

namespace {
// Record: kind (1 byte), value (4 bytes), text length (2 bytes), text.
constexpr std::size_t kHeader = 7;
constexpr std::size_t kMaxText = 3000;  // header + text stays below PIPE_BUF (4096)
}  // namespace

void send_message(int fd, MessageKind kind, int value, const std::string& text) noexcept {
    char buf[kHeader + kMaxText];
    std::size_t len = text.size() < kMaxText ? text.size() : kMaxText;
    auto v = static_cast<std::uint32_t>(value);
    auto l = static_cast<std::uint16_t>(len);
    buf[0] = static_cast<char>(kind);
    std::memcpy(buf + 1, &v, 4);
    std::memcpy(buf + 5, &l, 2);
    // Length-prefixed, not a C string: no terminator wanted.
    std::memcpy(buf + kHeader, text.data(), len);  // NOLINT(bugprone-not-null-terminated-result)
    ssize_t rc;
    do {
        rc = ::write(fd, buf, kHeader + len);
    } while (rc < 0 && errno == EINTR);
}

sys::Pipe make_report_channel() {
    int sv[2];
    sys::check(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), "creating the report channel");
    return sys::Pipe{sys::UniqueFd(sv[0]), sys::UniqueFd(sv[1])};
}

bool send_fd_message(int channel, MessageKind kind, int fd) noexcept {
    char record[kHeader] = {static_cast<char>(kind)};  // value 0, no text
    iovec iov{record, sizeof record};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
    ssize_t rc;
    do {
        rc = ::sendmsg(channel, &msg, MSG_NOSIGNAL);
    } while (rc < 0 && errno == EINTR);
    return rc == static_cast<ssize_t>(sizeof record);
}

std::size_t receive_report(int channel, std::string& buffer, std::vector<sys::UniqueFd>& fds) {
    char data[kHeader + kMaxText];
    alignas(cmsghdr) char control[CMSG_SPACE(4 * sizeof(int))];
    iovec iov{data, sizeof data};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = sys::retry_eintr([&] { return ::recvmsg(channel, &msg, MSG_CMSG_CLOEXEC); });
    if (n < 0) throw_errno("reading the sandbox's report channel");
    sys::take_passed_fds(msg, fds);
    buffer.append(data, static_cast<std::size_t>(n));
    return static_cast<std::size_t>(n);
}

std::string encode_summary(const InitSummary& s) {
    auto usec = [](const timeval& tv) { return std::to_string(static_cast<long long>(tv.tv_sec) * 1000000 + tv.tv_usec); };
    return usec(s.usage.ru_utime) + " " + usec(s.usage.ru_stime) + " " + (s.last_one ? "1" : "0") + " " +
           (s.scratch_full ? "1" : "0");
}

std::optional<InitSummary> decode_summary(const std::string& text) {
    // Exactly four space-separated decimal fields, nothing else: "USER SYS LAST FULL".
    long long field[4] = {-1, -1, -1, -1};
    const char* p = text.c_str();
    for (int i = 0; i < 4; ++i) {
        if (i > 0 && *p++ != ' ') return std::nullopt;
        if (*p < '0' || *p > '9') return std::nullopt;  // no sign, no blank, no empty field
        char* end = nullptr;
        errno = 0;
        field[i] = std::strtoll(p, &end, 10);
        if (errno != 0 || end == p) return std::nullopt;
        p = end;
    }
    if (*p != '\0' || static_cast<std::size_t>(p - text.c_str()) != text.size()) return std::nullopt;
    if (field[2] != 0 && field[2] != 1) return std::nullopt;
    if (field[3] != 0 && field[3] != 1) return std::nullopt;
    InitSummary s;
    s.usage.ru_utime = {static_cast<time_t>(field[0] / 1000000), static_cast<suseconds_t>(field[0] % 1000000)};
    s.usage.ru_stime = {static_cast<time_t>(field[1] / 1000000), static_cast<suseconds_t>(field[1] % 1000000)};
    s.last_one = field[2] == 1;
    s.scratch_full = field[3] == 1;
    return s;
}

std::vector<Message> take_messages(std::string& buffer) {
    std::vector<Message> out;
    std::size_t pos = 0;
    while (buffer.size() - pos >= kHeader) {
        std::uint32_t v;
        std::uint16_t l;
        std::memcpy(&v, buffer.data() + pos + 1, 4);
        std::memcpy(&l, buffer.data() + pos + 5, 2);
        if (buffer.size() - pos < kHeader + l) break;
        out.push_back(Message{static_cast<MessageKind>(buffer[pos]), static_cast<int>(v),
                              buffer.substr(pos + kHeader, l)});
        pos += kHeader + l;
    }
    buffer.erase(0, pos);
    return out;
}

}  // namespace aj::helper
