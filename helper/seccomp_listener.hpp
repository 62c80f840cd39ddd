// The runner's end of a seccomp user-notification listener (the filter's delivered
// calls), and what supervise() polls. Two supervisors use it: NotifySupervisor
// (notify_supervisor.hpp: refuse, name, count) and LearnSupervisor (learn_supervisor.hpp:
// observe and let through, `aurora-jail learn` only).
#pragma once

#include <linux/seccomp.h>

#include <cstdint>
#include <vector>

#include "policy/sys.hpp"

namespace aj::helper {

class SeccompListener {
public:
    // Takes the listener; sizes the buffers as the running kernel says (its structures
    // may have grown since these headers).
    void adopt(sys::UniqueFd listener);
    int fd() const { return fd_.get(); }
    explicit operator bool() const { return static_cast<bool>(fd_); }
    void close() { fd_.reset(); }

    // The next pending notification, or nullptr when none is pending. A caller that went
    // away before we took its call is skipped. A listener that fails otherwise is closed
    // (the kernel then answers delivered calls with ENOSYS).
    const seccomp_notif* next();
    // False when the caller went away meanwhile (the call did not complete).
    bool answer_error(std::uint64_t id, int err);
    bool answer_continue(std::uint64_t id);
    // Whether the notification's caller is still waiting for its answer: checked after
    // reading anything from its process, whose pid may otherwise have been reused.
    bool still_waiting(std::uint64_t id) const;

private:
    bool answer(std::uint64_t id, int err, std::uint32_t flags);
    sys::UniqueFd fd_;
    std::vector<char> notif_, resp_;
};

// What supervise() polls next to the report channel.
class CallSupervisor {
public:
    virtual ~CallSupervisor() = default;
    // Takes the run's listener. A run has one: a second is closed unread.
    virtual void adopt(sys::UniqueFd listener) = 0;
    // The listener to poll for POLLIN; -1 before adopt() and once it has hung up.
    virtual int fd() const = 0;
    // Answers every notification pending now; `revents` is fd()'s poll result. A hang-up
    // (no process left under the filter) closes the listener.
    virtual void on_ready(short revents) = 0;
};

}  // namespace aj::helper
