// The run report: one JSON object per run, printed as one line (--json) or written to a
// file atomically (--report FILE, what machines should use).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "helper/launch.hpp"
#include "policy/policy.hpp"

namespace aj::runner {

// "2026-11-28T01:02:03Z"
std::string utc_timestamp();

nlohmann::json make_run_report(const helper::LaunchResult& result, const policy::Policy& policy,
                               const std::vector<std::string>& argv, const std::string& started_at);

// Writes FILE.tmp.PID, fsyncs it and renames it over FILE: a reader sees the old report
// or the whole new one, never half of one.
void write_report_file(const std::string& path, const nlohmann::json& report);

}  // namespace aj::runner
