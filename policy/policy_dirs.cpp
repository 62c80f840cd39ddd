#include "policy/policy_dirs.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "policy/error.hpp"

namespace aj::policy {
namespace {

std::string env_dir() {
    const char* env = std::getenv("AURORA_JAIL_POLICY_DIR");
    return env != nullptr ? std::string(env) : std::string();
}

std::string own_user_dir() {
    return user_policy_dir(::geteuid(), std::getenv("XDG_CONFIG_HOME"), std::getenv("HOME"));
}

// mkdir -p with mode 0700 for every directory it creates (~/.config may not exist yet).
void make_private_dirs(const std::string& path) {
    for (std::size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
        const std::string prefix = path.substr(0, slash);
        if (::mkdir(prefix.c_str(), 0700) < 0 && errno != EEXIST)
            throw_errno("creating policy directory " + prefix);
        if (slash == std::string::npos) return;
    }
}

}  // namespace

std::string user_policy_dir(uid_t euid, const char* xdg_config_home, const char* home) {
    if (euid == 0) return {};
    if (xdg_config_home != nullptr && xdg_config_home[0] == '/')
        return std::string(xdg_config_home) + "/aurora-jail/policies";
    if (home != nullptr && home[0] == '/') return std::string(home) + "/.config/aurora-jail/policies";
    return {};
}

std::vector<std::string> policy_search_dirs(const std::string& flag_dir) {
    std::vector<std::string> dirs;
    for (std::string dir : {flag_dir, env_dir(), own_user_dir()})
        if (!dir.empty()) dirs.push_back(std::move(dir));
    dirs.emplace_back(kSystemPolicyDir);
    return dirs;
}

std::string policy_write_dir(const std::string& flag_dir) {
    if (!flag_dir.empty()) return flag_dir;
    if (std::string env = env_dir(); !env.empty()) return env;
    std::string user = own_user_dir();
    if (user.empty()) {
        if (::geteuid() == 0) return kSystemPolicyDir;
        throw Error("policy write: no policy directory: neither XDG_CONFIG_HOME nor HOME is an absolute "
                    "path; pass --policy-dir DIR");
    }
    make_private_dirs(user);
    return user;
}

}  // namespace aj::policy
