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

#include "helper/seccomp_listener.hpp"
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

class NotifySupervisor : public CallSupervisor {
public:
    static constexpr int kMaxLines = 20;

    // `lines`: where the denial lines go (stderr), or nullptr for none.
    NotifySupervisor(policy::SeccompInputs inputs, std::FILE* lines);
    NotifySupervisor(const NotifySupervisor&) = delete;
    NotifySupervisor& operator=(const NotifySupervisor&) = delete;

    void adopt(sys::UniqueFd listener) override;
    int fd() const override { return listener_.fd(); }
    void on_ready(short revents) override;

    // In the order first seen.
    const std::vector<Denial>& denials() const { return denials_; }
    nlohmann::json to_json() const;

private:
    Denial& record(std::uint32_t arch, int nr);

    policy::SeccompInputs inputs_;
    std::optional<policy::DenialRules> rules_;  // computed at the first denial
    std::FILE* lines_;
    SeccompListener listener_;
    std::vector<Denial> denials_;
    std::map<std::pair<std::uint32_t, int>, std::size_t> index_;  // (arch, nr) -> denials_
    int lines_printed_ = 0;
};

}  // namespace aj::helper
