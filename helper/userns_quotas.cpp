#include "helper/userns_quotas.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "policy/sys.hpp"

namespace aj::helper {

void limit_user_namespace_quotas() {
    const sys::UniqueFd dir = sys::open_fd("/proc/sys/user", O_RDONLY | O_DIRECTORY, "opening /proc/sys/user");
    for (const auto& quota : kUserNsQuotas) {
        sys::UniqueFd fd(sys::retry_eintr([&] { return ::openat(dir.get(), quota.name, O_WRONLY | O_CLOEXEC); }));
        if (!fd) {
            if (errno == ENOENT) continue;  // an older kernel without this limit
            throw_errno(std::string("opening /proc/sys/user/") + quota.name);
        }
        sys::write_all(fd.get(), std::to_string(quota.value),
                       std::string("limiting the sandbox's user namespace: /proc/sys/user/") + quota.name);
    }
}

void apply_quota_rlimits() {
    for (const auto& [resource, name, value] : kQuotaRlimits) {
        rlimit limit{};
        sys::check(::getrlimit(resource, &limit), std::string("getrlimit ") + name);
        limit = {std::min<rlim_t>(static_cast<rlim_t>(value), limit.rlim_cur),
                 std::min<rlim_t>(static_cast<rlim_t>(value), limit.rlim_max)};
        sys::check(::setrlimit(resource, &limit), std::string("setrlimit ") + name + " " + std::to_string(value));
    }
}

}  // namespace aj::helper
