// The run report: one JSON object per run, printed as one line (--json), written to a
// file atomically (--report FILE) or to an inherited descriptor (--report-fd N). The last
// two are what machines should use: the sandbox can write to neither, while --json
// shares stdout with the command (see print_json_report).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "helper/launch.hpp"
#include "policy/sys.hpp"
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

// Where --report-fd N goes: a descriptor the caller opened for us (a pipe, like bwrap's
// --json-status-fd). Checked when the run starts: it must be open for writing, above 2,
// and not the stream the command writes to (stdout or stderr), since the command could
// then write a report of its own into it. The sandbox never inherits it (every
// descriptor above 2 is closed there; it is made close-on-exec here as well).
class ReportFd {
public:
    explicit ReportFd(int fd);
    // One line; a reader that went away is told on stderr, not fatal to the run.
    void write(const nlohmann::json& report) const;

private:
    int fd_;
};

// --json: the report as the last line of stdout, printed once every process of the
// sandbox has ended, and after a newline of its own: whatever the command printed (a
// fake report, a line without its newline), the last line is wholly ours, so
// `tail -n1 | jq` reads the real report. Consumers that parse every line of stdout
// can still be shown the command's JSON: they want --report-fd or --report.
void print_json_report(const nlohmann::json& report);

}  // namespace aj::runner
