// The denial supervisor: the runner's side of a supervised seccomp program
// (policy::DenialDelivery::Supervisor). The contract:
// - The command's filter delivers the calls the policy refuses outright as user
//   notifications to one listener, created as the filter is loaded and passed by PID 1 to
//   the runner over the report channel (channel.hpp, MessageKind::Listener). After
//   execve no process of the sandbox holds it.
// - Every notification is answered with the policy's errno. Never with
//   SECCOMP_USER_NOTIF_FLAG_CONTINUE, and nothing of the caller's memory is read: the
//   supervisor makes no decision a racing thread could change (no TOCTOU); the decision
//   was the filter's.
// - Each answered call is counted per (ABI, number) and named with the policy entry that
//   refused it (policy::denial_rules). The first denial of each call is one line on
//   stderr, at most kMaxLines per run; the report lists them all (to_json()).
// - Fail closed: once the listener is closed (this process died, or stopped
//   supervising), the kernel answers every pending and later delivered call with ENOSYS.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/seccomp_compile.hpp"
#include "policy/sys.hpp"

namespace aj::helper {

struct Denial {
    std::string syscall;
    int nr = -1;
    std::string arch;
    std::string rule;
    std::uint64_t count = 0;
};

class NotifySupervisor {
public:
    static constexpr int kMaxLines = 20;

    // `lines`: where the denial lines go (stderr), or nullptr for none.
    NotifySupervisor(policy::SeccompInputs inputs, std::FILE* lines);
    NotifySupervisor(const NotifySupervisor&) = delete;
    NotifySupervisor& operator=(const NotifySupervisor&) = delete;

    // Takes the run's listener. A run has one: a second is closed unread.
    void adopt(sys::UniqueFd listener);
    // The listener to poll for POLLIN; -1 before adopt() and once it has hung up.
    int fd() const { return listener_.get(); }
    // Answers every notification pending now; `revents` is fd()'s poll result. A hang-up
    // (no process left under the filter) closes the listener.
    void on_ready(short revents);

    // In the order first seen.
    const std::vector<Denial>& denials() const { return denials_; }
    nlohmann::json to_json() const;

private:
    // False when nothing was pending (or the caller vanished before the answer).
    bool answer_one();
    Denial& record(std::uint32_t arch, int nr);

    policy::SeccompInputs inputs_;
    std::optional<policy::DenialRules> rules_;  // computed at the first denial
    std::FILE* lines_;
    sys::UniqueFd listener_;
    std::vector<char> notif_, resp_;  // sized by SECCOMP_GET_NOTIF_SIZES
    std::vector<Denial> denials_;
    std::map<std::pair<std::uint32_t, int>, std::size_t> index_;  // (arch, nr) -> denials_
    int lines_printed_ = 0;
};

}  // namespace aj::helper
