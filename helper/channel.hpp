// The one-way report channel from the sandbox (PID 1 and the command before execve) to
// the runner: a SOCK_SEQPACKET socket pair, so that PID 1 can pass the seccomp listener
// (SCM_RIGHTS) with a message. Every message is one small record written with a single
// write(2) (one packet), so a failure anywhere inside becomes one precise line in the
// runner, and EOF tells the runner that nothing inside is left to speak (never a hang).
// The sandbox's end never survives an execve: untrusted code cannot write to it.
#pragma once

#include <sys/resource.h>

#include <optional>
#include <string>
#include <vector>

#include "policy/sys.hpp"

namespace aj::helper {

enum class MessageKind : char {
    SetupError = 'E',  // text: "step: ENAME (...)"; the sandbox gave up before execve
    ExecError = 'X',   // value: errno of the failed execve; text: the command
    Status = 'S',      // value: the command's wait status; text: encode_usage() of all
                       // PID 1 reaped. Sent by PID 1 as it exits, once nothing else is left.
    Listener = 'L',    // carries the command's seccomp listener (SCM_RIGHTS); no text
    Terminal = 'T',    // carries the master of the command's terminal (SCM_RIGHTS), on
                       // the launch's terminal channel (LaunchRequest::terminal); no text
};

// What PID 1 adds to the Status message: the CPU time of everything it reaped, and
// whether it was the last process left in the sandbox when it sent the message.
struct InitSummary {
    rusage usage{};         // ru_utime and ru_stime only
    bool last_one = false;  // every other process was killed and reaped
    bool scratch_full = false;  // the scratch tmpfs (max_tmpfs_mb) was all but full at the end
};
// "USER_USEC SYS_USEC LAST(0|1) SCRATCH_FULL(0|1)"; decode_summary() is the reverse
// (nullopt for anything else).
std::string encode_summary(const InitSummary& summary);
std::optional<InitSummary> decode_summary(const std::string& text);

struct Message {
    MessageKind kind;
    int value = 0;
    std::string text;
};

// Async-signal-safe enough for a forked child: no allocation beyond a stack buffer.
// Errors are ignored on purpose: the sender exits right after, and EOF still arrives.
void send_message(int fd, MessageKind kind, int value, const std::string& text) noexcept;

// The channel: `read` is the runner's end, `write` the sandbox's; both close-on-exec.
sys::Pipe make_report_channel();

// A message of `kind` (no text) with `fd` attached. False when it could not be sent.
bool send_fd_message(int channel, MessageKind kind, int fd) noexcept;
// A Listener message with `fd` attached. False when it could not be sent.
inline bool send_listener(int channel, int fd) noexcept { return send_fd_message(channel, MessageKind::Listener, fd); }

// One recvmsg(2) of the runner's end: the bytes are appended to `buffer`, descriptors
// passed with them to `fds` (close-on-exec). Returns the byte count (0: EOF); throws on
// error.
std::size_t receive_report(int channel, std::string& buffer, std::vector<sys::UniqueFd>& fds);

// Splits the bytes read so far into messages; incomplete trailing bytes stay in `buffer`.
std::vector<Message> take_messages(std::string& buffer);

}  // namespace aj::helper
