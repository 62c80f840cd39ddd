// The stale sweep: an aurora-jail killed with SIGKILL cannot remove its sandbox cgroup,
// so the next start does, once it is sure the owner is gone.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <optional>

#include "helper/cgroup.hpp"
#include "helper/cgroup_fs.hpp"

namespace aj::helper {
namespace {

// Seconds since the epoch at which pid started; nullopt when there is no such process or
// it has exited. A zombie counts as gone: it can no longer use or remove its cgroup, and
// an orphaned run process killed by its parent's death stays one for as long as the
// process that adopted it leaves it unreaped (a container's PID 1 may never reap).
std::optional<double> live_process_start_epoch(pid_t pid) {
    std::string stat;
    try {
        stat = sys::read_file("/proc/" + std::to_string(pid) + "/stat", 4096);
    } catch (const Error& e) {
        if (e.error_number() == ENOENT || e.error_number() == ESRCH) return std::nullopt;
        throw;
    }
    // comm may contain spaces and ')': the fields resume after the last ')'.
    std::size_t pos = stat.rfind(')');
    if (pos == std::string::npos || pos + 2 >= stat.size()) return std::nullopt;
    // Field 3, the state: Z (zombie) or X (dead).
    if (stat[pos + 2] == 'Z' || stat[pos + 2] == 'X') return std::nullopt;
    // Field 22 (starttime) is the 20th field after comm.
    std::size_t field = 2;
    std::size_t i = pos + 1;
    while (i < stat.size() && field < 22) {
        if (stat[i] == ' ') ++field;
        ++i;
    }
    unsigned long long ticks = std::strtoull(stat.c_str() + i, nullptr, 10);
    static const double boot = [] {
        std::string s = sys::read_file("/proc/stat", 1 << 20);
        std::size_t b = s.find("\nbtime ");
        return b == std::string::npos ? 0.0 : std::strtod(s.c_str() + b + 7, nullptr);
    }();
    return boot + static_cast<double>(ticks) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace

std::vector<std::string> sweep_stale_cgroups(const std::string& parent_dir, std::vector<std::string>& notes) {
    std::vector<std::string> removed;
    DIR* d = ::opendir(parent_dir.c_str());
    if (!d) {
        if (errno != ENOENT && errno != EACCES) notes.push_back("stale sweep: " + parent_dir + ": " + errno_text(errno));
        return removed;
    }
    std::vector<std::pair<std::string, pid_t>> candidates;
    const std::string prefix = kCgroupPrefix;
    while (dirent* e = ::readdir(d)) {
        std::string_view name = e->d_name;
        if (e->d_type != DT_DIR || name.substr(0, prefix.size()) != prefix) continue;
        std::string_view rest = name.substr(prefix.size());
        pid_t pid = 0;
        auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), pid);
        if (ec != std::errc() || pid <= 0 || p == rest.data() + rest.size() || *p != '-') continue;
        candidates.emplace_back(std::string(name), pid);
    }
    ::closedir(d);

    for (const auto& [name, pid] : candidates) {
        std::string dir = parent_dir + "/" + name;
        struct stat st {};
        if (::stat(dir.c_str(), &st) != 0) continue;  // removed meanwhile
        std::optional<double> started = live_process_start_epoch(pid);
        // A live owner that started after the directory was made is a reused pid. The
        // 2 s slack covers btime's one-second resolution; a pid reused that fast after
        // a crash only delays the sweep to a later start.
        double made = static_cast<double>(st.st_ctim.tv_sec);
        if (started && *started <= made + 2) continue;
        try {
            cgroupfs::destroy_tree(dir, std::chrono::milliseconds(2000));
            removed.push_back(dir);
        } catch (const Error& e) {
            notes.push_back(std::string("stale sweep: ") + e.what());
        }
    }
    return removed;
}

}  // namespace aj::helper
