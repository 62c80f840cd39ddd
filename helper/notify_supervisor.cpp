#include "helper/notify_supervisor.hpp"

#include <poll.h>

#include "policy/syscall_names.hpp"

namespace aj::helper {

NotifySupervisor::NotifySupervisor(policy::SeccompInputs inputs, std::FILE* lines)
    : inputs_(std::move(inputs)), lines_(lines) {}

void NotifySupervisor::adopt(sys::UniqueFd listener) {
    if (listener_ || !listener) return;  // a second listener closes here, unread
    listener_.adopt(std::move(listener));
}

void NotifySupervisor::on_ready(short revents) {
    if (revents & POLLIN)
        while (const seccomp_notif* n = listener_.next()) {
            // Never SECCOMP_USER_NOTIF_FLAG_CONTINUE. A caller that went away meanwhile
            // (a signal restarts the call as a new one) was not refused: not counted.
            if (listener_.answer_error(n->id, inputs_.action.errno_value)) ++record(n->data.arch, n->data.nr).count;
        }
    // Hang-up: every process under the filter is gone; nothing can be pending.
    if (revents & (POLLHUP | POLLERR | POLLNVAL)) listener_.close();
}

Denial& NotifySupervisor::record(std::uint32_t arch, int nr) {
    auto [it, fresh] = index_.try_emplace({arch, nr}, denials_.size());
    if (!fresh) return denials_[it->second];
    if (!rules_) rules_ = policy::denial_rules(inputs_);
    const policy::AbiCall call = policy::describe_call(arch, nr);
    std::string rule = rules_->otherwise.empty() ? "the policy" : rules_->otherwise;
    if (call.arch != "x86_64") {
        rule = rules_->foreign_abi;
    } else if (auto found = rules_->by_nr.find(nr); found != rules_->by_nr.end()) {
        rule = found->second;
    }
    denials_.push_back(Denial{call.name, call.nr, call.arch, rule, 0});
    if (lines_ && lines_printed_ < kMaxLines) {
        std::fprintf(lines_, "aurora-jail: denied %s (%s nr %d) by %s\n", call.name.c_str(), call.arch.c_str(),
                     call.nr, rule.c_str());
        if (++lines_printed_ == kMaxLines)
            std::fprintf(lines_, "aurora-jail: further denials are not shown here (the run report lists them all)\n");
        std::fflush(lines_);
    }
    return denials_.back();
}

nlohmann::json NotifySupervisor::to_json() const {
    nlohmann::json out = nlohmann::json::array();
    for (const Denial& d : denials_)
        out.push_back({{"syscall", d.syscall}, {"nr", d.nr}, {"arch", d.arch}, {"rule", d.rule}, {"count", d.count}});
    return out;
}

}  // namespace aj::helper
