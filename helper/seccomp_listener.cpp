#include "helper/seccomp_listener.hpp"

#include <poll.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "policy/error.hpp"

namespace aj::helper {

void SeccompListener::adopt(sys::UniqueFd listener) {
    seccomp_notif_sizes sizes{};
    if (::syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0)
        throw_errno("seccomp(SECCOMP_GET_NOTIF_SIZES)");
    notif_.assign(std::max<std::size_t>(sizes.seccomp_notif, sizeof(seccomp_notif)), 0);
    resp_.assign(std::max<std::size_t>(sizes.seccomp_notif_resp, sizeof(seccomp_notif_resp)), 0);
    fd_ = std::move(listener);
}

const seccomp_notif* SeccompListener::next() {
    while (fd_) {
        pollfd p{fd_.get(), POLLIN, 0};
        if (sys::retry_eintr([&] { return ::poll(&p, 1, 0); }) <= 0 || !(p.revents & POLLIN)) return nullptr;
        std::fill(notif_.begin(), notif_.end(), 0);  // RECV requires a zeroed buffer
        auto* notif = reinterpret_cast<seccomp_notif*>(notif_.data());
        if (::ioctl(fd_.get(), SECCOMP_IOCTL_NOTIF_RECV, notif) == 0) return notif;
        // ENOENT: the caller was interrupted or killed before we took it. Anything else
        // would repeat forever.
        if (errno != ENOENT && errno != EINTR) fd_.reset();
    }
    return nullptr;
}

bool SeccompListener::answer(std::uint64_t id, int err, std::uint32_t flags) {
    std::fill(resp_.begin(), resp_.end(), 0);
    auto* resp = reinterpret_cast<seccomp_notif_resp*>(resp_.data());
    resp->id = id;
    resp->error = err ? -err : 0;
    resp->val = 0;
    resp->flags = flags;
    return fd_ && ::ioctl(fd_.get(), SECCOMP_IOCTL_NOTIF_SEND, resp) == 0;
}

bool SeccompListener::answer_error(std::uint64_t id, int err) { return answer(id, err, 0); }

bool SeccompListener::answer_continue(std::uint64_t id) {
    return answer(id, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
}

bool SeccompListener::still_waiting(std::uint64_t id) const {
    std::uint64_t copy = id;
    return fd_ && ::ioctl(fd_.get(), SECCOMP_IOCTL_NOTIF_ID_VALID, &copy) == 0;
}

}  // namespace aj::helper
