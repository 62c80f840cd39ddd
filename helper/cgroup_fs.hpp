// Plumbing shared by both cgroup backends and the stale-cgroup sweep: control files read
// and written relative to an open directory, killing every member without pid-reuse races,
// and removing a cgroup (with anything nested in it) within a bounded time.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/sys.hpp"

namespace aj::helper::cgroupfs {

// Opens a cgroup directory (O_DIRECTORY|O_NOFOLLOW). Throws with `what` as context.
sys::UniqueFd open_dir(const std::string& path, std::string_view what);

// The content of DIR/NAME; nullopt when the file does not exist (controller not enabled,
// or a kernel that predates it). Other errors throw.
std::optional<std::string> read_control(int dirfd, const std::string& dir, const char* name);

// Writes VALUE to DIR/NAME in one write(2) (cgroup files take one value per write).
// Returns 0 or the errno, so callers can treat "not available" as a fallback.
int try_write_control(int dirfd, const char* name, std::string_view value);
// Same, but throws "writing DIR/NAME = VALUE: ENAME (...)".
void write_control(int dirfd, const std::string& dir, const char* name, std::string_view value);

// "KEY VALUE" lines (memory.events, cpu.stat, memory.oom_control): the value for key.
std::optional<std::uint64_t> keyed_value(std::string_view text, std::string_view key);

// Members listed in DIR/cgroup.procs (pids as seen from our pid namespace).
std::vector<pid_t> read_procs(int dirfd, const std::string& dir);

// SIGKILLs every member of this one cgroup. A pid read from cgroup.procs may be reaped
// and reused before we signal it, so each is pinned with a pidfd first and only signalled
// if it is still listed afterwards. `spare` (when > 0) is left alone. Returns how many
// were signalled.
std::size_t kill_members(int dirfd, const std::string& dir, pid_t spare = 0);

// Kills everything in DIR and beneath it (cgroup.kill on v2 when the kernel has it),
// waits until the cgroups are empty and removes them deepest first. Throws when DIR
// still exists after `budget`; a DIR that is already gone is success.
void destroy_tree(const std::string& dir, std::chrono::milliseconds budget);

}  // namespace aj::helper::cgroupfs
