// Kills and reaps a child on scope exit unless released: an error half-way through a
// launch (or a captured run) never leaves a half-built sandbox running, nor a zombie.
#pragma once

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "policy/sys.hpp"

namespace aj::helper {

class ChildGuard {
public:
    explicit ChildGuard(pid_t pid) : pid_(pid) {}
    ~ChildGuard() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        int status;
        sys::retry_eintr([&] { return ::waitpid(pid_, &status, 0); });
    }
    ChildGuard(const ChildGuard&) = delete;
    ChildGuard& operator=(const ChildGuard&) = delete;
    // The caller has reaped the child (or handed it on): nothing to do at scope exit.
    void release() { pid_ = -1; }

private:
    pid_t pid_;
};

}  // namespace aj::helper
