#include "policy/setid_rules.hpp"

namespace aj::policy {

const std::vector<SetidModeRule>& setid_mode_rules() {
    static const std::vector<SetidModeRule> rules = {
        {"chmod", 1, std::nullopt},
        {"fchmod", 1, std::nullopt},
        {"fchmodat", 2, std::nullopt},
        {"fchmodat2", 2, std::nullopt},
        {"mkdir", 1, std::nullopt},
        {"mkdirat", 2, std::nullopt},
        {"mknod", 1, std::nullopt},
        {"mknodat", 2, std::nullopt},
        {"creat", 1, std::nullopt},  // always creates
        {"open", 2, 1},
        {"openat", 3, 2},
    };
    return rules;
}

}  // namespace aj::policy
