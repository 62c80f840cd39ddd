// Named policies on disk: NAME.json files in a policy directory (the prototype's
// write_policy / load_policy / validate_policy, without its auto-created default).
#pragma once

#include <string>
#include <vector>

#include "policy/policy.hpp"

namespace aj::policy {

// [A-Za-z0-9][A-Za-z0-9._-]{0,63}, never containing "..": a single safe file name stem.
bool valid_policy_name(const std::string& name);

// Validates `policy_json` (naming `source` in errors), then writes DIR/NAME.json
// atomically: temp file in DIR, fsync, rename, fsync DIR. Returns the final path.
std::string write_policy(const std::string& dir, const std::string& name,
                         const std::string& policy_json, const std::string& source);
// Loads and validates DIR/NAME.json; a missing file is an error, never a silent default.
Policy load_named_policy(const std::string& dir, const std::string& name);
// The names of DIR's *.json files with valid names, sorted. A missing DIR lists nothing.
std::vector<std::string> list_policies(const std::string& dir);

struct ResolvedPolicy {
    std::string path;   // the file it came from
    Policy policy;
};
// An argument containing '/' or ending in ".json" is a file; otherwise a name looked up
// in each of `dirs` in order (callers pass policy_search_dirs(), policy/policy_dirs.hpp;
// empty entries are skipped).
ResolvedPolicy resolve_policy(const std::string& file_or_name, const std::vector<std::string>& dirs);

}  // namespace aj::policy
