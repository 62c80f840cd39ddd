// run's own terminal in the foreground: runc's mode for process.terminal without
// --detach, where no engine takes the master.
//
// Contract:
// - Made by run when create finds process.terminal (CreateOptions::foreground_console):
//   a listening unix socket in a new 0700 directory under --root (the caller's own, 0700,
//   checked by open_state_root), whose path create uses as its --console-socket. The
//   monitor sends the master there before create returns, as to an engine's.
// - take_master(), once create returned, accepts that one connection and keeps the
//   master. When run's stdin is a terminal, it is put in raw mode (keys, Ctrl-C included,
//   reach the container's terminal, whose line discipline acts on them) and its window
//   size copied to the container's; the destructor restores it on every exit path.
// - While run waits (foreground_wait.hpp), bytes move stdin -> master and master ->
//   stdout; SIGWINCH (run takes it, never passes it on) copies the size again. EOF on
//   stdin, or a failed write to the master, stops reading stdin; a failed write to stdout
//   (its reader gone: no SIGPIPE) drops the output from then on, still read; the master's
//   EIO (no process holds the terminal) ends the output. None of these ends run.
// - finish(), once the monitor ended, writes what the container left in the master.
// - The destructor removes the socket and its directory.
#pragma once

#include <termios.h>

#include <optional>
#include <string>
#include <vector>

#include "oci/foreground_wait.hpp"
#include "policy/sys.hpp"

namespace aj::oci {

class ForegroundTerminal : public PollSide {
public:
    explicit ForegroundTerminal(const std::string& state_root);
    ~ForegroundTerminal() override;
    ForegroundTerminal(const ForegroundTerminal&) = delete;
    ForegroundTerminal& operator=(const ForegroundTerminal&) = delete;

    const std::string& socket_path() const { return socket_path_; }
    void take_master();
    void resize();
    void finish();
    void add_poll_fds(std::vector<pollfd>& fds) override;
    void on_poll(const std::vector<pollfd>& fds, std::size_t first) override;

private:
    // One read of the master to stdout (dropped once stdout failed); at EIO or EOF the
    // master is closed.
    void relay_output();

    std::string dir_, socket_path_;
    sys::UniqueFd listener_, master_;
    std::optional<termios> saved_;  // run's stdin's settings while it is raw
    bool reading_stdin_ = true;
    bool writing_stdout_ = true;
};

}  // namespace aj::oci
