// Policy <-> JSON. Parsing validates everything and throws aj::Error whose message is
// one line: "FILE: /json/pointer: what is wrong".
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "policy/policy.hpp"

namespace aj::policy {

// `source` names the input in messages (a file path, "<built-in default>", ...).
Policy parse_policy(std::string_view json_text, const std::string& source);
Policy load_policy_file(const std::string& path);
// A policy file's text: regular files only, at most kMaxPolicyBytes (json_text.hpp).
std::string read_policy_text(const std::string& path);
// The normalised policy with every default filled in; parse_policy(to_json(p)) == p.
nlohmann::json to_json(const Policy& policy);
// Hex sha256 of the compact normalised JSON: equal meaning, equal hash.
std::string policy_sha256(const Policy& policy);

}  // namespace aj::policy
