// PID 1 of the sandbox's pid namespace: after the setup it forks the command, then only
// reaps and forwards signals until the command exits.
#pragma once

#include <signal.h>
#include <sys/types.h>

namespace aj::helper {

// SIGINT, SIGTERM, SIGHUP, SIGQUIT: what the runner forwards to PID 1 and PID 1 to the
// command. The runner blocks them before cloning, so PID 1 starts with them blocked and
// none can be lost between clone and run_init.
sigset_t forwarded_signals();

// What PID 1 passes on to the command: every signal but its own SIGCHLD, the two no
// process can catch (SIGKILL, SIGSTOP), and those its own faults or writes raise (SEGV,
// BUS, FPE, ILL, TRAP, SYS, PIPE). Whoever may signal PID 1 (the host's root, the
// sandbox's own uid) reaches the command with any other signal, as runc's kill does:
// aurora-runc's kill sends USR1 and the rest to PID 1. A superset of forwarded_signals();
// PID 1 blocks it as its first step, so none is lost before run_init.
sigset_t init_forwarded_signals();

// Makes PID 1 harmless for the rest of its life: no capabilities, no_new_privs, and not
// dumpable (the command, same uid, can neither ptrace it nor open /proc/1/fd).
void harden_init();

// harden_init's first part alone, for a command that keeps capabilities (launch.hpp,
// ProcessIdentity) and so must be forked before PID 1 drops its own: not dumpable from
// here on, so the command can neither ptrace PID 1 nor open its /proc/1/fd, mem or
// environ: PID 1's memory was copied from the runner's and belongs to the host's user
// namespace, where the command holds no CAP_SYS_PTRACE.
void make_init_undumpable();

// Never returns. Forwards init_forwarded_signals() to `command`, reaps every child (orphans
// of the sandbox are reparented here), and when `command` exits kills and reaps whatever
// else is left in the pid namespace, then sends the command's wait status and the CPU
// time of everything it reaped over `report_fd` and exits. Once that message is sent,
// no process of the sandbox but PID 1 itself exists any more.
// `scratch` (O_PATH on the scratch tmpfs, may be invalid) is measured every
// 50 ms while the command runs and once it has ended: InitSummary::scratch_full
// says whether it was all but full at any of those moments (a tmpfs filled, then
// emptied before the end, still counts; one filled and emptied between two polls not).
[[noreturn]] void run_init(pid_t command, int report_fd, int scratch = -1);

}  // namespace aj::helper
