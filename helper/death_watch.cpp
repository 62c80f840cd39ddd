#include "helper/death_watch.hpp"

#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

#include "helper/accounting.hpp"

namespace aj::helper {
namespace {

// PIDFD_GET_INFO's argument in its first size (Linux 6.13; exit_code filled from 6.15).
// Spelled here: the C library's headers of this distribution predate it.
struct PidfdInfo {
    std::uint64_t mask;
    std::uint64_t cgroupid;
    std::uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
    std::int32_t exit_code;
};
static_assert(sizeof(PidfdInfo) == 64, "PIDFD_INFO_SIZE_VER0");
constexpr unsigned long kPidfdGetInfo = _IOWR(0xFF, 11, PidfdInfo);
constexpr std::uint64_t kPidfdInfoExit = 1U << 3;

// /proc/PID/comm without its newline; empty when gone.
std::string command_of(pid_t pid) {
    try {
        std::string text = sys::read_file("/proc/" + std::to_string(pid) + "/comm", 64);
        if (!text.empty() && text.back() == '\n') text.pop_back();
        return text;
    } catch (const Error&) {
        return {};
    }
}

}  // namespace

DeathWatch::DeathWatch(std::vector<int> signals) : signals_(std::move(signals)) {
    rlimit files{};
    if (::getrlimit(RLIMIT_NOFILE, &files) == 0) max_pinned_ = std::min<rlim_t>(kMaxPinned, files.rlim_cur / 4);
}

void DeathWatch::poll(pid_t root, const std::vector<pid_t>& pids) {
    for (pid_t pid : pids) {
        if (!works_ || pinned_.size() >= max_pinned_) break;
        if (pinned_.contains(pid)) continue;
        const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
        if (fd < 0) continue;  // gone
        sys::UniqueFd pidfd(fd);
        // Pinned now; a pid reused since the walk has another parent.
        const pid_t parent = parent_of(pid);
        if (parent != root && std::find(pids.begin(), pids.end(), parent) == pids.end()) continue;
        pinned_.emplace(pid, Pinned{std::move(pidfd), {}});
    }
    collect();
}

void DeathWatch::collect() {
    for (auto it = pinned_.begin(); it != pinned_.end();) {
        // Read before asking: if the process still lives after, the name was its own.
        std::string command = command_of(it->first);
        PidfdInfo info{};
        info.mask = kPidfdInfoExit;
        const int rc = sys::retry_eintr([&] { return ::ioctl(it->second.pidfd.get(), kPidfdGetInfo, &info); });
        if (rc == 0 && !(info.mask & kPidfdInfoExit)) {  // alive (or a zombie not yet reaped)
            if (!command.empty()) it->second.command = std::move(command);
            ++it;
            continue;
        }
        if (rc == 0) {
            const int status = info.exit_code;
            if (WIFSIGNALED(status) &&
                std::find(signals_.begin(), signals_.end(), WTERMSIG(status)) != signals_.end())
                deaths_.try_emplace(WTERMSIG(status), Death{WTERMSIG(status), it->second.command});
        } else {
            // Reaped, and the kernel kept nothing (before 6.15: ESRCH; before 6.13: ENOTTY).
            works_ = false;
        }
        it = pinned_.erase(it);
    }
    if (!works_) pinned_.clear();
}

}  // namespace aj::helper
