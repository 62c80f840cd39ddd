#include "oci/start_wait.hpp"

#include <optional>
#include <string>
#include <thread>

#include "helper/init_title.hpp"
#include "oci/container_signals.hpp"
#include "oci/container_state.hpp"
#include "policy/error.hpp"
#include "policy/sys.hpp"

namespace aj::oci {

namespace {

// The state letter of /proc/PID/stat (R, S, D, T, Z...), or 0.
char process_state(pid_t pid) {
    std::string stat;
    try {
        stat = sys::read_file("/proc/" + std::to_string(pid) + "/stat", 4096);
    } catch (const Error&) {
        return 0;
    }
    const auto paren = stat.rfind(')');  // the name may hold anything but ends at the last ')'
    return paren == std::string::npos || paren + 2 >= stat.size() ? 0 : stat[paren + 2];
}

}  // namespace

bool wait_for_command_exec(pid_t pid1, unsigned long long pid1_start, std::chrono::milliseconds limit,
                           std::chrono::milliseconds settle) {
    const auto until = std::chrono::steady_clock::now() + limit;
    std::optional<std::chrono::steady_clock::time_point> settled_by;
    while (std::chrono::steady_clock::now() < until) {
        if (!Container::same_live_process(pid1, pid1_start)) return false;
        if (const std::optional<PinnedProcess> command = container_command(pid1)) {
            std::string comm;
            try {
                comm = sys::read_file("/proc/" + std::to_string(command->pid) + "/comm", 64);
            } catch (const Error&) {
                // Gone meanwhile: looked for again.
            }
            // Forked from PID 1 (CLONE_VFORK), it bears PID 1's name until its execve.
            if (!comm.empty() && comm != std::string(helper::kInitTitle) + "\n") {
                if (!settled_by) settled_by = std::chrono::steady_clock::now() + settle;
                const char state = process_state(command->pid);
                if ((state != 'R' && state != 'D') || std::chrono::steady_clock::now() >= *settled_by) return true;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
}

}  // namespace aj::oci
