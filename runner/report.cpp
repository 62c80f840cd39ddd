#include "runner/report.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "helper/sys.hpp"
#include "runner/atomic_file.hpp"
#include "policy/parse.hpp"

namespace aj::runner {

// Calendar arithmetic only: strftime and gmtime_r load the time zone database
// (/etc/localtime) on first use, a file read every run would pay before its sandbox.
std::string utc_timestamp(std::chrono::system_clock::time_point when) {
    using namespace std::chrono;
    const auto now = floor<seconds>(when);
    const auto day = floor<days>(now);
    const year_month_day ymd{day};
    const hh_mm_ss<seconds> hms{now - day};
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lldZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<long long>(hms.hours().count()), static_cast<long long>(hms.minutes().count()),
                  static_cast<long long>(hms.seconds().count()));
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

ReportTarget::ReportTarget(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    name_ = slash == std::string::npos ? path : path.substr(slash + 1);
    if (name_.empty() || name_ == "." || name_ == "..")
        throw Error("--report " + path + ": expected a file name");
    dir_ = sys::open_fd(dir, O_RDONLY | O_DIRECTORY, "--report: opening directory");
    // The atomic write creates a temporary file there and renames it over FILE.
    if (::faccessat(dir_.get(), ".", W_OK | X_OK, AT_EACCESS) != 0)
        throw_errno("--report " + path + ": cannot create files in " + dir);
    struct stat st {};
    if (::fstatat(dir_.get(), name_.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
        throw Error("--report " + path + ": is a directory");
}

void ReportTarget::write(const nlohmann::json& report) const {
    write_file_atomic(dir_.get(), name_, report.dump() + "\n", 0644);
}

}  // namespace aj::runner
