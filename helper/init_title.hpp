// PID 1's process title. PID 1 is cloned from the runner without an exec, so its
// argument and environment areas still hold the runner's host command line (host paths,
// request and policy names) and environment, which every process of the sandbox could
// read in /proc/1/cmdline (and, were it readable, /proc/1/environ). Changing where the
// kernel looks (PR_SET_MM_ARG_START) needs CAP_SYS_RESOURCE in the host's namespace, so
// PID 1 overwrites its own copies instead.
#pragma once

namespace aj::helper {

// What /proc/1/cmdline and /proc/1/comm show inside.
inline constexpr char kInitTitle[] = "aurora-init";

// Replaces the calling process's argument area with kInitTitle, zeroes its environment
// area and sets its name. Call in PID 1 before anything of the sandbox runs, while the
// host's /proc is still mounted; everything PID 1 needs from argv and the environment
// must have been copied out before (launch()'s Prepared holds it).
void hide_host_command_line();

}  // namespace aj::helper
