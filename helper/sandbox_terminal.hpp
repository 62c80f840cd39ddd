// A pseudo-terminal of the sandbox's own devpts instance, for a command that runs on a
// terminal its caller reaches only through the master (aurora-runc's process.terminal:
// the master goes to the engine's console socket). The slave lives in the sandbox's
// /dev/pts, so `tty` inside names /dev/pts/0 and nothing of the host's devpts (its other
// terminals, its ptmx) is reachable from the sandbox.
#pragma once

#include <string>
#include <vector>

#include "helper/launch.hpp"
#include "policy/sys.hpp"

namespace aj::helper {

struct PtyPair {
    sys::UniqueFd master;
    sys::UniqueFd slave;
};

// Opens a new pseudo-terminal of the devpts mounted at `pts_dir` (a path in the caller's
// mount namespace): that instance's own `ptmx` (never /dev/ptmx, which a bind could make
// the host's), checked to be a devpts, unlocked, and its slave opened through the master
// (TIOCGPTPEER: no path is looked up that could name another terminal). Both close-on-
// exec, O_NOCTTY. A size with rows and cols both 0 leaves the kernel's (0x0). Throws
// aj::Error naming the step.
PtyPair open_devpts_pty(const std::string& pts_dir, unsigned short rows, unsigned short cols);

// Refuses (aj::Error) a launch whose /dev/pts would not be a devpts instance of the
// sandbox's own: a listed devpts at /dev/pts is needed, and nothing may be bound at or
// below it (a bind of the host's /dev/pts would put the host's terminals there).
void check_terminal_plan(const std::vector<FilesystemMount>& filesystems, const std::vector<ExtraBind>& binds,
                         const std::vector<std::string>& devices);

}  // namespace aj::helper
