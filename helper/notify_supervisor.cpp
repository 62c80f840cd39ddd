#include "helper/notify_supervisor.hpp"

#include <linux/seccomp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "policy/error.hpp"
#include "policy/syscall_names.hpp"

namespace aj::helper {

NotifySupervisor::NotifySupervisor(policy::SeccompInputs inputs, std::FILE* lines)
    : inputs_(std::move(inputs)), lines_(lines) {}

void NotifySupervisor::adopt(sys::UniqueFd listener) {
    if (listener_ || !listener) return;  // a second listener closes here, unread
    // The kernel's structures may have grown since these headers: size them as it says.
    seccomp_notif_sizes sizes{};
    if (::syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0)
        throw_errno("seccomp(SECCOMP_GET_NOTIF_SIZES)");
    notif_.assign(std::max<std::size_t>(sizes.seccomp_notif, sizeof(seccomp_notif)), 0);
    resp_.assign(std::max<std::size_t>(sizes.seccomp_notif_resp, sizeof(seccomp_notif_resp)), 0);
    listener_ = std::move(listener);
}

void NotifySupervisor::on_ready(short revents) {
    if (!listener_) return;
    if (revents & POLLIN)
        while (answer_one()) {
        }
    // Hang-up: every process under the filter is gone; nothing can be pending.
    if (revents & (POLLHUP | POLLERR | POLLNVAL)) listener_.reset();
}

bool NotifySupervisor::answer_one() {
    pollfd p{listener_.get(), POLLIN, 0};
    if (sys::retry_eintr([&] { return ::poll(&p, 1, 0); }) <= 0 || !(p.revents & POLLIN)) return false;
    std::fill(notif_.begin(), notif_.end(), 0);  // RECV requires a zeroed buffer
    auto* notif = reinterpret_cast<seccomp_notif*>(notif_.data());
    if (::ioctl(listener_.get(), SECCOMP_IOCTL_NOTIF_RECV, notif) != 0) {
        // ENOENT: the caller was interrupted or killed before we took it. Anything else
        // would repeat forever: stop supervising (the kernel then answers ENOSYS).
        if (errno == ENOENT || errno == EINTR) return true;
        listener_.reset();
        return false;
    }
    std::fill(resp_.begin(), resp_.end(), 0);
    auto* resp = reinterpret_cast<seccomp_notif_resp*>(resp_.data());
    resp->id = notif->id;
    resp->error = -(inputs_.action.errno_value);
    resp->val = 0;
    resp->flags = 0;  // never SECCOMP_USER_NOTIF_FLAG_CONTINUE
    // ENOENT: the caller went away meanwhile (a signal restarts the call as a new one):
    // nothing was refused, nothing is counted.
    if (::ioctl(listener_.get(), SECCOMP_IOCTL_NOTIF_SEND, resp) == 0)
        ++record(notif->data.arch, notif->data.nr).count;
    return true;
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
