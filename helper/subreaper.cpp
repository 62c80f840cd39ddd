#include "helper/subreaper.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vector>

#include "helper/accounting.hpp"
#include "policy/sys.hpp"

namespace aj::helper {

void become_subreaper() {
    sys::check(::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "PR_SET_CHILD_SUBREAPER");
}

std::size_t end_descendants(std::chrono::milliseconds budget) {
    const auto deadline = std::chrono::steady_clock::now() + budget;
    std::size_t killed = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        const std::vector<pid_t> children = children_of(::getpid());
        if (children.empty()) break;
        for (pid_t pid : children)
            if (::kill(pid, SIGKILL) == 0) ++killed;
        for (pid_t pid : children) {
            int status = 0;
            sys::retry_eintr([&] { return ::waitpid(pid, &status, __WALL); });
        }
    }
    return killed;
}

}  // namespace aj::helper
