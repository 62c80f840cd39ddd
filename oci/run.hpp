// `run`: runc's create and start in one command (docs/oci.md, "run").
//
// run --bundle B [--pid-file P] [--console-socket S] [--detach] [--keep] ID creates the
// container (cmd_create: the same checks, monitor and state) and starts it (cmd_start).
// With --detach it returns then, as create + start would. Without, the container's stdio
// is this command's own (relayed by the monitor, as create's is without a terminal),
// the monitor is this command's child and its exit status the container's: run forwards
// the signals it gets to the container's process as `kill ID SIG` would, waits for the
// monitor, deletes the container (unless --keep), and exits with the process's status
// (128+N for signal N). A failure at any step deletes what was made. With process.terminal
// in the foreground, run takes the terminal's master itself and relays it to its stdio,
// as runc does (oci/foreground_terminal.hpp); --console-socket is for --detach only.
#pragma once

#include "oci/commands.hpp"

namespace aj::oci {

struct RunOptions {
    CreateOptions create;
    bool detach = false;  // --detach: return once started
    bool keep = false;    // --keep: leave the stopped container's state for `state` and `delete`
};

int cmd_run(const Globals& g, const RunOptions& o);

}  // namespace aj::oci
