// Errors as values that carry their context: every failure ends in one precise
// `aurora-jail: ...` line, naming what failed, the path or value, and the errno name.
#pragma once

#include <cerrno>
#include <stdexcept>
#include <string>
#include <string_view>

namespace aj {

// Exit statuses shared by every sub-command (timeout(1), podman and docker use the same).
inline constexpr int kExitTimeout = 124;
inline constexpr int kExitInternal = 125;
inline constexpr int kExitNotExecutable = 126;
inline constexpr int kExitNotFound = 127;

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message, int exit_code = kExitInternal, int err = 0)
        : std::runtime_error(message), exit_code_(exit_code), errno_(err) {}

    int exit_code() const noexcept { return exit_code_; }
    // The errno behind this error, 0 when none.
    int error_number() const noexcept { return errno_; }

    // The same error with outer context prepended: "loading policy: /x: ENOENT (...)".
    Error wrap(std::string_view context) const {
        return Error(std::string(context) + ": " + what(), exit_code_, errno_);
    }

private:
    int exit_code_;
    int errno_;
};

// "ENOENT (No such file or directory)"; "errno 4242" for numbers glibc cannot name.
std::string errno_text(int err);
// "ENOENT"; empty for unknown numbers.
std::string errno_name(int err);
// The number for a name such as "EPERM"; -1 when the name is unknown.
int errno_from_name(std::string_view name);

// Throws Error("WHAT: ENAME (description)") for the given errno (default: current errno).
[[noreturn]] void throw_errno(std::string_view what, int err = errno);

}  // namespace aj
