// `exec` and `ps`: runc's commands over a running container (docs/oci.md, "exec").
//
// exec --process FILE [--detach] [--pid-file P] ID: a new process in the container, held
// to every restriction the container's own process has (oci/exec_process.hpp: its
// namespaces, cgroups, seccomp program, rlimits, capability bounding set, no_new_privs,
// its one mapped uid and gid). It is this command's child, in the container's pid
// namespace: with --detach the pid file names it and this command returns once it has
// exec'd, so an engine that is a child subreaper (conmon, containerd's shim) inherits and
// reaps it, as with runc; without, this command forwards signals to it, waits, and exits
// with its status (128+N for signal N). Its stdio is the caller's own, unless
// process.terminal (or --tty) asks for a terminal: it then runs on a new pseudo-terminal
// of the container's own devpts, whose master this command sends to --console-socket
// (runc's protocol, oci/console.hpp) before it returns or waits; nothing of the caller's
// stdio or terminal reaches the process.
//
// ps [--format table|json] ID: the host pids of the container's pid namespace (PID 1,
// the process, and every exec'd process).
#pragma once

#include <string>

#include "oci/commands.hpp"

namespace aj::oci {

struct ExecOptions {
    std::string id;
    std::string process_file;  // --process: the config's `process` object, as JSON
    std::string pid_file;      // --pid-file
    bool detach = false;       // --detach
    bool tty = false;          // --tty: process.terminal true whatever process.json says
    std::string console_socket;  // --console-socket: where the terminal's master goes
};

int cmd_exec(const Globals& g, const ExecOptions& o);
int cmd_ps(const Globals& g, const std::string& id, const std::string& format);

}  // namespace aj::oci
