// Host-side helpers for the escape suite: the things the probe attacks from inside (a
// host process, a loopback listener, an abstract unix socket, a controlling terminal)
// and the parser of its output. Each resource is RAII and checks, after the run, that
// the attack left no trace.
#pragma once

#include <sys/types.h>
#include <termios.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "policy/sys.hpp"
#include "tests/support/process.hpp"

namespace aj::escape {

struct Verdict {
    std::string status;  // BLOCKED | ESCAPED | SKIPPED
    std::string detail;
};

struct ProbeOutput {
    std::map<std::string, Verdict> attacks;
    bool summary_seen = false;
    int escaped = -1, blocked = -1, skipped = -1;
};

// Parses `ATTACK name STATUS detail` lines and the final SUMMARY line.
ProbeOutput parse_probe_output(std::string_view out);

// A sleeping child owned by `uid`, named `comm`: the host process the probe must not be
// able to see, ptrace or signal.
class HostTarget {
public:
    HostTarget(uid_t uid, gid_t gid, const std::string& comm);
    ~HostTarget();
    HostTarget(const HostTarget&) = delete;
    HostTarget& operator=(const HostTarget&) = delete;
    pid_t pid() const { return pid_; }
    // "" when alive and not traced, else what is wrong.
    std::string check_untouched() const;

private:
    pid_t pid_ = -1;
};

// A TCP listener on the host's 127.0.0.1 (ephemeral port).
class TcpListener {
public:
    TcpListener();
    ~TcpListener();
    TcpListener(const TcpListener&) = delete;
    TcpListener& operator=(const TcpListener&) = delete;
    int port() const { return port_; }
    bool had_connection() const;

private:
    int fd_ = -1;
    int port_ = 0;
};

// A listening abstract unix socket in the host's network namespace.
class AbstractUnixListener {
public:
    AbstractUnixListener();
    ~AbstractUnixListener();
    AbstractUnixListener(const AbstractUnixListener&) = delete;
    AbstractUnixListener& operator=(const AbstractUnixListener&) = delete;
    const std::string& name() const { return name_; }
    bool had_connection() const;

private:
    int fd_ = -1;
    std::string name_;
};

// A fresh pseudo-terminal standing for the caller's own terminal: its device number (to
// recognise it inside), and its state when created, to find what a run changed.
class CallerTerminal {
public:
    CallerTerminal();
    CallerTerminal(const CallerTerminal&) = delete;
    CallerTerminal& operator=(const CallerTerminal&) = delete;
    int master() const { return master_.get(); }
    const std::string& slave_path() const { return slave_path_; }
    dev_t rdev() const { return rdev_; }
    // "" when exclusive mode, line discipline and termios are as they were, else what is not.
    std::string check_unchanged() const;

private:
    sys::UniqueFd master_;
    sys::UniqueFd slave_;  // held open so the state can be read after the run
    std::string slave_path_;
    dev_t rdev_ = 0;
    termios before_{};
};

// Runs argv (+ extra_env) with `tty` as stdin and controlling terminal, so terminal
// attacks have a real target; stdout is captured, and stderr too, or, when `stderr_log`
// is given, appended to that file (a caller's `2>> log`) and read back from it. Killed
// (its whole session) after timeout_sec.
test::ProcessResult run_with_tty(const CallerTerminal& tty, const std::vector<std::string>& argv,
                                 const std::vector<std::string>& extra_env, int timeout_sec,
                                 const std::string& stderr_log = "");

// Writes bytes to path with mode (created or replaced).
void write_bytes(const std::string& path, std::string_view bytes, mode_t mode);

// A random lowercase hex string of n characters.
std::string random_hex(std::size_t n);

}  // namespace aj::escape
