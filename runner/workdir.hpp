// `run --workdir DIR`: the host directory bound read-write at the same path and made the
// command's cwd. Checked before anything is launched, so that a directory the sandbox
// cannot write gives aurora-jail's own message naming the host uid that needs access,
// not the command's bare "Permission denied" from inside.
#pragma once

#include <sys/types.h>

#include <string>

namespace aj::runner {

// `path` made absolute (relative to the cwd) and lexically normal, without a trailing
// '/'; `what` (the option) names it in an error.
std::string absolute_normal(const std::string& path, const std::string& what);

// DIR made absolute (relative to the cwd) and lexically normal, without a trailing '/'
// ("/srv/out/" and "/srv/out" are the same directory).
std::string normalize_workdir(const std::string& dir);

// Throws aj::Error unless `dir` (normalized) is an existing directory that host uid
// `uid` / gid `gid` can write and enter. For the caller's own ids the kernel decides
// (faccessat with the effective ids, ACLs included); for another uid (a root caller's
// sandbox) the owner/group/other mode bits do.
void require_writable_workdir(const std::string& dir, uid_t uid, gid_t gid);

}  // namespace aj::runner
