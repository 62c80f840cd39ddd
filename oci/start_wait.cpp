#include "oci/start_wait.hpp"

#include <string>
#include <thread>

#include "helper/init_title.hpp"
#include "oci/container_signals.hpp"
#include "oci/container_state.hpp"
#include "policy/error.hpp"
#include "policy/sys.hpp"

namespace aj::oci {

bool wait_for_command_exec(pid_t pid1, unsigned long long pid1_start, std::chrono::milliseconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
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
            if (!comm.empty() && comm != std::string(helper::kInitTitle) + "\n") return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
}

}  // namespace aj::oci
