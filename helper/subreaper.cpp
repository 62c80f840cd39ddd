#include "helper/subreaper.hpp"

#include <dirent.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "helper/sys.hpp"

namespace aj::helper {
namespace {

// The children of every thread of this process (/proc/self/task/TID/children).
std::vector<pid_t> children_of_self() {
    std::vector<pid_t> out;
    std::unique_ptr<DIR, int (*)(DIR*)> tasks(::opendir("/proc/self/task"), ::closedir);
    if (!tasks) throw_errno("listing /proc/self/task to find what the command left running");
    while (const dirent* task = ::readdir(tasks.get())) {
        if (task->d_name[0] < '0' || task->d_name[0] > '9') continue;
        std::string text;
        try {
            text = sys::read_file(std::string("/proc/self/task/") + task->d_name + "/children");
        } catch (const Error&) {
            continue;  // the thread ended meanwhile
        }
        std::istringstream words(text);
        for (pid_t pid = 0; words >> pid;) out.push_back(pid);
    }
    return out;
}

}  // namespace

void become_subreaper() {
    sys::check(::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "PR_SET_CHILD_SUBREAPER");
}

std::size_t end_descendants(std::chrono::milliseconds budget) {
    const auto deadline = std::chrono::steady_clock::now() + budget;
    std::size_t killed = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        const std::vector<pid_t> children = children_of_self();
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
