// The one-way report channel from the sandbox (PID 1 and the command before execve) to
// the runner. Every message is one small record written with a single write(2) (atomic,
// below PIPE_BUF), so a failure anywhere inside becomes one precise line in the runner
// and pipe EOF tells the runner that nothing inside is left to speak (never a hang).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace aj::helper {

enum class MessageKind : char {
    SetupError = 'E',  // text: "step: ENAME (...)"; the sandbox gave up before execve
    ExecError = 'X',   // value: errno of the failed execve; text: the command
    Status = 'S',      // value: the command's wait status, sent by PID 1 as it exits
};

struct Message {
    MessageKind kind;
    int value = 0;
    std::string text;
};

// Async-signal-safe enough for a forked child: no allocation beyond a stack buffer.
// Errors are ignored on purpose: the sender exits right after, and EOF still arrives.
void send_message(int fd, MessageKind kind, int value, const std::string& text) noexcept;

// Splits the bytes read so far into messages; incomplete trailing bytes stay in `buffer`.
std::vector<Message> take_messages(std::string& buffer);

}  // namespace aj::helper
