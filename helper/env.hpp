// The sandbox's environment: nothing from the caller unless the policy passes it.
#pragma once

#include <string>
#include <vector>

#include "policy/policy.hpp"

namespace aj::helper {

// "NAME=VALUE" entries: each policy `pass` name that is set in `caller_env` (an environ-
// style array), then every policy `set` entry (which wins over a passed value).
std::vector<std::string> build_environment(const policy::Environment& env, const char* const* caller_env);

// The value of NAME in such a list, or nullptr.
const std::string* find_variable(const std::vector<std::string>& env, const std::string& name);

}  // namespace aj::helper
