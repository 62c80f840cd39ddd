// The run report: one JSON object per run, printed as one line (--json) or written to a
// file atomically (--report FILE, what machines should use).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "helper/launch.hpp"
#include "helper/sys.hpp"
#include "policy/policy.hpp"

namespace aj::runner {

// "2026-11-28T01:02:03Z" for `when` (default: now).
std::string utc_timestamp(std::chrono::system_clock::time_point when = std::chrono::system_clock::now());

nlohmann::json make_run_report(const helper::LaunchResult& result, const policy::Policy& policy,
                               const std::vector<std::string>& argv, const std::string& started_at);

// Where --report FILE goes. The directory is opened when the run starts, BEFORE the
// sandbox exists: the report is then written relative to that handle, so a sandbox that
// can write somewhere along FILE's path cannot redirect the report by planting a symlink
// while it runs (the firejail CVE-2022-31214 lesson: never trust jail-writable state).
// A report that could not be written is refused then too (a directory we may not write,
// a read-only file system, a directory in FILE's place): found after the run, the
// failure would replace the command's exit status.
class ReportTarget {
public:
    explicit ReportTarget(const std::string& path);
    // Temp file (O_EXCL|O_NOFOLLOW), fsync, rename over the name, fsync the directory: a
    // reader sees the old report or the whole new one, never half of one.
    void write(const nlohmann::json& report) const;

private:
    sys::UniqueFd dir_;
    std::string name_;
};

}  // namespace aj::runner
