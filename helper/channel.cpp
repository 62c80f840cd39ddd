#include "helper/channel.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>

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
