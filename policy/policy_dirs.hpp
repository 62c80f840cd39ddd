// Where named policies live, and the one order in which a policy name is looked up. Every
// caller that turns a name into a file (run --policy, policy show/compile/list, plugin
// manifests, host requests) goes through policy_search_dirs(); `policy write` through
// policy_write_dir().
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace aj::policy {

inline constexpr const char* kSystemPolicyDir = "/etc/aurora-jail/policies";

// An ordinary user's own policy directory: $XDG_CONFIG_HOME/aurora-jail/policies, else
// $HOME/.config/aurora-jail/policies (relative values are ignored, as the XDG spec says).
// Empty for root, whose policies are the system ones, and when neither variable is usable.
// A pure function of its arguments, so the rule can be tested for any uid.
std::string user_policy_dir(uid_t euid, const char* xdg_config_home, const char* home);

// The lookup order, first match wins: `flag_dir` (--policy-dir, may be empty),
// $AURORA_JAIL_POLICY_DIR, the caller's user_policy_dir(), then kSystemPolicyDir.
std::vector<std::string> policy_search_dirs(const std::string& flag_dir);

// Where `policy write` stores: the first of `flag_dir`, $AURORA_JAIL_POLICY_DIR, the
// user's directory (created 0700 with its missing parents), kSystemPolicyDir (root).
std::string policy_write_dir(const std::string& flag_dir);

}  // namespace aj::policy
