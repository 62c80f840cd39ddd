#include "oci/run.hpp"

#include <sys/wait.h>

#include <csignal>
#include <optional>
#include <string>

#include "helper/init.hpp"
#include "helper/supervisor.hpp"
#include "oci/container_state.hpp"
#include "oci/foreground_terminal.hpp"
#include "oci/foreground_wait.hpp"
#include "policy/error.hpp"
#include "policy/sys.hpp"

namespace aj::oci {

namespace {

// What run takes in the foreground: what the container's PID 1 passes on to the process,
// less SIGURG, which runc does not pass on either. SIGWINCH is run's own (its terminal's
// size), never passed on.
sigset_t run_signals() {
    sigset_t set = helper::init_forwarded_signals();
    sigdelset(&set, SIGURG);
    return set;
}

// The monitor `create` forked: this command's child, which exits with the container's status.
pid_t monitor_of(const Globals& g, const std::string& id) {
    const sys::UniqueFd root = open_state_root(g.root);
    return Container(root.get(), id).recorded().monitor;
}

// Once the container exists, a failure leaves nothing of it: delete --force ends its
// processes and removes its cgroup and state; the monitor, our child, is then reaped.
void remove_after_failure(const Globals& g, const std::string& id, pid_t monitor) {
    try {
        cmd_delete(g, id, true);
    } catch (const Error& e) {
        g.log->error("container " + id + ": removing it after the failure: " + e.what());
    }
    if (monitor > 0) (void)sys::retry_eintr([&] { return ::waitpid(monitor, nullptr, 0); });
}

}  // namespace

int cmd_run(const Globals& g, const RunOptions& o) {
    const std::string& id = o.create.id;
    if (o.detach) {
        cmd_create(g, o.create);
        try {
            return cmd_start(g, id);
        } catch (...) {
            remove_after_failure(g, id, -1);
            throw;
        }
    }
    // runc's rule and words: the socket is for a terminal a detached container keeps.
    if (!o.create.console_socket.empty()) throw Error("cannot use console socket if runc will not detach or allocate tty");
    // Blocked before create: a signal from now on is queued and passed on once the
    // process runs, never the default action that would end this command and leave the
    // container behind.
    const helper::BlockedSignals signals(run_signals());
    std::optional<ForegroundTerminal> terminal;
    CreateOptions create = o.create;
    create.foreground_console = [&] {
        (void)open_state_root(g.root);  // made and checked: private to the caller
        terminal.emplace(g.root);
        return terminal->socket_path();
    };
    cmd_create(g, create);
    pid_t monitor = -1;
    int status = 0;
    try {
        monitor = monitor_of(g, id);
        if (terminal) terminal->take_master();
        cmd_start(g, id);
        status = wait_forwarding(
            monitor, signals.fd(),
            [&](int sig) {
                if (sig == SIGWINCH) {
                    if (terminal) terminal->resize();
                    return;
                }
                try {
                    cmd_kill(g, id, std::to_string(sig), false);
                } catch (const Error& e) {
                    // The process ended meanwhile: the monitor's exit follows.
                    if (std::string(e.what()) != "container not running")
                        g.log->warning("container " + id + ": passing on signal " + std::to_string(sig) + ": " + e.what());
                }
            },
            terminal ? &*terminal : nullptr);
        if (terminal) terminal->finish();
    } catch (...) {
        remove_after_failure(g, id, monitor);
        throw;
    }
    if (!o.keep) {
        try {
            cmd_delete(g, id, true);
        } catch (const Error& e) {
            // The process's status is still this command's: the state left is named.
            g.log->error("container " + id + ": deleting it after its end: " + e.what());
        }
    }
    return status;
}

}  // namespace aj::oci
