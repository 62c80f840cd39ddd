#include "runner/report.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "policy/sys.hpp"
#include "policy/atomic_write.hpp"
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
        {"host_uid", result.host.uid},
        {"host_gid", result.host.gid},
        {"enforced", result.enforced},
        {"denials", result.denials},
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
    sys::write_file_atomic(dir_.get(), name_, report.dump() + "\n", 0600);
}

ReportFd::ReportFd(int fd) : fd_(fd) {
    const std::string what = "--report-fd " + std::to_string(fd);
    if (fd <= 2)
        throw Error(what + ": descriptors 0-2 are the command's own streams (use --json for a report on stdout)");
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0) throw_errno(what + ": not an open descriptor");
    if ((flags & O_ACCMODE) == O_RDONLY) throw Error(what + ": not open for writing");
    struct stat st{};
    sys::check(::fstat(fd, &st), what + ": fstat");
    for (int shared : {1, 2}) {
        struct stat other{};
        if (::fstat(shared, &other) == 0 && other.st_dev == st.st_dev && other.st_ino == st.st_ino)
            throw Error(what + ": it is the same file as descriptor " + std::to_string(shared) +
                        ", which the command writes to: it could forge the report there");
    }
    sys::check(::fcntl(fd, F_SETFD, FD_CLOEXEC), what + ": setting close-on-exec");
}

void ReportFd::write(const nlohmann::json& report) const {
    const std::string what = "writing the report to descriptor " + std::to_string(fd_);
    if (!sys::write_unless_reader_gone(fd_, report.dump() + "\n", what))
        std::fprintf(stderr, "aurora-jail: %s: the reader has gone\n", what.c_str());
}

void print_json_report(const nlohmann::json& report) {
    std::cout << '\n' << report.dump() << std::endl;
}

}  // namespace aj::runner
