#pragma once

#include "policy/policy.hpp"

namespace aj::policy {

// The built-in hardened policy used when a run names none.
Policy default_policy();

}  // namespace aj::policy
