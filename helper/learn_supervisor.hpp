// `aurora-jail learn`'s side of the seccomp listener: the learning program
// (policy::DenialDelivery::Learn) delivers every call the base policy refuses outright
// and every call that names a path. The contract:
// - Each call is observed, then let through (SECCOMP_USER_NOTIF_FLAG_CONTINUE). This is
//   the one place aurora-jail answers CONTINUE, and it decides nothing: learning runs
//   with the base policy's namespaces and mounts, not its system call rules.
// - A path is read from the caller's memory (/proc/PID/mem) while the caller waits, and
//   kept only if the caller is still the one waiting afterwards (its pid may otherwise
//   have been reused). A racing thread can make the record wrong, never the sandbox
//   weaker: the record only proposes a policy, which the user reads before using it.
// - Relative paths are resolved against the caller's cwd or directory fd as the kernel
//   will (/proc/PID/cwd, /proc/PID/fd/N); learning shows the host's tree at the same
//   paths, so what the caller names is the host path.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "helper/seccomp_listener.hpp"
#include "policy/path_calls.hpp"
#include "policy/seccomp_compile.hpp"

namespace aj::helper {

struct PathUse {
    bool read = false;     // looked at or opened for reading
    bool written = false;  // opened for writing or truncated
    bool entries = false;  // an entry created, removed or renamed here (its directory is written)
    bool executed = false; // a process ran it
};

struct Learned {
    std::map<std::string, PathUse> paths;  // absolute, lexically normal
    std::map<std::string, std::uint64_t> refused_calls;  // what the base refuses -> times made
};

class LearnSupervisor : public CallSupervisor {
public:
    // `base`: the base policy's syscall inputs (what counts as refused).
    explicit LearnSupervisor(const policy::SeccompInputs& base);

    void adopt(sys::UniqueFd listener) override;
    int fd() const override { return listener_.fd(); }
    void on_ready(short revents) override;

    const Learned& learned() const { return learned_; }

private:
    void observe(const seccomp_notif& n);
    // The absolute path argument `arg` of the caller names; empty when there is none.
    static std::string path_of(pid_t pid, const seccomp_data& data, const policy::PathArgument& arg);

    SeccompListener listener_;
    std::map<int, const policy::PathCall*> path_calls_;  // native nr -> how to read it
    std::set<int> refused_;                              // native nrs the base refuses outright
    std::set<pid_t> seen_;                               // pids whose executable is recorded
    Learned learned_;
};

// "/a/./b/../c" -> "/a/c" (no file system access: the caller's view, not ours).
std::string lexically_normal(const std::string& absolute);

}  // namespace aj::helper
