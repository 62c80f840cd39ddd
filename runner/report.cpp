#include "runner/report.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

#include "helper/sys.hpp"
#include "policy/parse.hpp"

namespace aj::runner {

std::string utc_timestamp() {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

nlohmann::json make_run_report(const helper::LaunchResult& result, const policy::Policy& policy,
                               const std::vector<std::string>& argv, const std::string& started_at) {
    return nlohmann::json{
        {"exit_code", result.exit_code},
        {"signal", result.signal ? nlohmann::json(*result.signal) : nlohmann::json(nullptr)},
        {"timed_out", result.timed_out},
        {"wall_sec", result.wall_sec},
        {"cpu", {{"user_sec", result.user_cpu_sec}, {"sys_sec", result.sys_cpu_sec}}},
        {"mode", result.mode},
        {"enforced", result.enforced},
        {"policy_sha256", policy::policy_sha256(policy)},
        {"argv", argv},
        {"started_at", started_at},
    };
}

void write_report_file(const std::string& path, const nlohmann::json& report) {
    const std::string tmp = path + ".tmp." + std::to_string(::getpid());
    try {
        sys::UniqueFd fd = sys::open_fd(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, "writing report", 0644);
        sys::write_all(fd.get(), report.dump() + "\n", "writing report " + tmp);
        sys::check(::fsync(fd.get()), "fsync report " + tmp);
    } catch (...) {
        ::unlink(tmp.c_str());
        throw;
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        throw_errno("renaming report into place: " + path, err);
    }
}

}  // namespace aj::runner
