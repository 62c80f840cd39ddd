#include "helper/accounting.hpp"

#include <dirent.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>

#include "policy/sys.hpp"

namespace aj::helper {
namespace {

// /proc/PID/... as text; empty when the process is gone or not ours to read.
std::string proc_text(pid_t pid, const char* file) {
    try {
        return sys::read_file("/proc/" + std::to_string(pid) + "/" + file);
    } catch (const Error&) {
        return {};
    }
}

// Pss in bytes from smaps_rollup ("Pss:  1234 kB").
std::uint64_t pss_bytes(pid_t pid) {
    const std::string text = proc_text(pid, "smaps_rollup");
    const auto at = text.find("\nPss:");
    if (at == std::string::npos) return 0;
    return std::strtoull(text.c_str() + at + 5, nullptr, 10) * 1024;
}

// The fields of /proc/PID/stat from field 3 (the state) on: the command name, field 2,
// may hold spaces and parentheses, so they count from the last ')'. Empty when gone.
std::istringstream stat_fields(pid_t pid) {
    const std::string text = proc_text(pid, "stat");
    const auto close = text.rfind(')');
    return std::istringstream(close == std::string::npos ? std::string() : text.substr(close + 2));
}

// utime+stime+cutime+cstime in seconds, from /proc/PID/stat (fields 14-17).
double cpu_seconds(pid_t pid) {
    std::istringstream fields = stat_fields(pid);
    std::string skip;
    for (int field = 3; field < 14; ++field) fields >> skip;
    unsigned long long ticks[4] = {};
    for (auto& t : ticks) fields >> t;
    static const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
    return static_cast<double>(ticks[0] + ticks[1] + ticks[2] + ticks[3]) / hz;
}

}  // namespace

pid_t parent_of(pid_t pid) {
    std::istringstream fields = stat_fields(pid);
    std::string state;
    pid_t ppid = -1;
    fields >> state >> ppid;
    return ppid;
}

std::vector<pid_t> children_of(pid_t pid) {
    std::vector<pid_t> out;
    const std::string tasks_dir = "/proc/" + std::to_string(pid) + "/task";
    std::unique_ptr<DIR, int (*)(DIR*)> tasks(::opendir(tasks_dir.c_str()), ::closedir);
    if (!tasks) return out;
    while (const dirent* task = ::readdir(tasks.get())) {
        if (task->d_name[0] < '0' || task->d_name[0] > '9') continue;
        std::string text;
        try {
            text = sys::read_file(tasks_dir + "/" + task->d_name + "/children");
        } catch (const Error&) {
            continue;
        }
        std::istringstream words(text);
        for (pid_t child = 0; words >> child;) out.push_back(child);
    }
    return out;
}

std::vector<pid_t> process_tree(pid_t root, const std::vector<pid_t>& exclude) {
    std::vector<pid_t> out;
    std::vector<pid_t> todo = {root};
    while (!todo.empty()) {
        const pid_t pid = todo.back();
        todo.pop_back();
        for (pid_t child : children_of(pid)) {
            if (std::find(exclude.begin(), exclude.end(), child) != exclude.end()) continue;
            // A pid seen twice (reused between two reads) is measured once.
            if (std::find(out.begin(), out.end(), child) != out.end()) continue;
            out.push_back(child);
            todo.push_back(child);
        }
    }
    return out;
}

std::uint64_t count_tasks(const std::vector<pid_t>& pids) {
    std::uint64_t n = 0;
    for (pid_t pid : pids) {
        std::istringstream fields = stat_fields(pid);
        std::string skip;
        for (int field = 3; field < 20; ++field) fields >> skip;
        std::uint64_t threads = 0;
        if (fields >> threads) n += threads;
    }
    return n;
}

SandboxUsage measure_usage(const std::vector<pid_t>& pids) {
    SandboxUsage u;
    for (pid_t pid : pids) {
        u.memory_bytes += pss_bytes(pid);
        u.cpu_sec += cpu_seconds(pid);
        ++u.processes;
    }
    return u;
}

std::size_t kill_tree(pid_t root, const std::vector<pid_t>& pids, pid_t spare) {
    std::size_t killed = 0;
    for (pid_t pid : pids) {
        if (pid == spare) continue;
        const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
        if (fd < 0) continue;  // gone
        const sys::UniqueFd pinned(fd);
        const pid_t parent = parent_of(pid);
        if (parent != root && std::find(pids.begin(), pids.end(), parent) == pids.end()) continue;
        if (::syscall(SYS_pidfd_send_signal, pinned.get(), SIGKILL, nullptr, 0) == 0) ++killed;
    }
    return killed;
}

}  // namespace aj::helper
