// The processes a kill reaches (oci/container_signals.hpp).
#include "oci/container_signals.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <sstream>
#include <string>

#include "policy/dir_list.hpp"
#include "policy/error.hpp"
#include "runner/run_registry.hpp"

namespace aj::oci {

namespace {

std::optional<PinnedProcess> pin(pid_t pid) {
    sys::UniqueFd fd(sys::pidfd_open(pid));
    if (!fd) return std::nullopt;  // gone
    return PinnedProcess{pid, std::move(fd)};
}

// The parent of `pid` from /proc/PID/stat (the fields after the name's closing parenthesis
// are "STATE PPID ..."); nullopt when it is gone.
std::optional<pid_t> parent_of(pid_t pid) {
    std::string stat;
    try {
        stat = sys::read_file("/proc/" + std::to_string(pid) + "/stat", 4096);
    } catch (const Error&) {
        return std::nullopt;
    }
    const std::size_t close = stat.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream fields(stat.substr(close + 1));
    std::string state;
    long ppid = 0;
    if (!(fields >> state >> ppid)) return std::nullopt;
    return static_cast<pid_t>(ppid);
}

bool same_file(const struct stat& a, const struct stat& b) { return a.st_dev == b.st_dev && a.st_ino == b.st_ino; }

}  // namespace

std::vector<PinnedProcess> pid_namespace_members(pid_t pid1) {
    struct stat ns {};
    if (::stat(("/proc/" + std::to_string(pid1) + "/ns/pid").c_str(), &ns) != 0)
        throw_errno("reading the pid namespace of the container's init " + std::to_string(pid1));
    std::vector<PinnedProcess> out;
    sys::UniqueFd proc = sys::open_fd("/proc", O_RDONLY | O_DIRECTORY, "opening /proc");
    for (const auto& name : sys::list_dir(proc.get(), "/proc")) {
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos || name.size() > 9) continue;
        const pid_t pid = static_cast<pid_t>(std::stol(name));
        // Pinned first, checked after: a number reused in between is either the pinned
        // process (still alive) or a dead one, which a signal then cannot reach.
        std::optional<PinnedProcess> p = pin(pid);
        if (!p) continue;
        struct stat other {};
        if (::stat(("/proc/" + name + "/ns/pid").c_str(), &other) != 0) continue;  // gone, or not ours to read
        if (same_file(ns, other)) out.push_back(std::move(*p));
    }
    return out;
}

std::optional<PinnedProcess> container_command(pid_t pid1) {
    const std::string path = "/proc/" + std::to_string(pid1) + "/task/" + std::to_string(pid1) + "/children";
    std::string text;
    try {
        text = sys::read_file(path, 1 << 20);
    } catch (const Error&) {
        return std::nullopt;  // PID 1 is gone
    }
    std::optional<PinnedProcess> oldest;
    unsigned long long oldest_start = 0;
    std::istringstream in(text);
    for (long n = 0; in >> n;) {
        const auto pid = static_cast<pid_t>(n);
        std::optional<PinnedProcess> p = pin(pid);
        // Pinned, then checked: still PID 1's child, not a process that took the number.
        if (!p || parent_of(pid) != pid1) continue;
        const std::optional<unsigned long long> start = runner::process_start_time(pid);
        if (!start) continue;
        if (!oldest || *start < oldest_start) {
            oldest = std::move(p);
            oldest_start = *start;
        }
    }
    return oldest;
}

}  // namespace aj::oci
