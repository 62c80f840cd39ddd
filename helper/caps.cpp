#include "helper/caps.hpp"

#include <sys/capability.h>
#include <sys/prctl.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <string>

#include "policy/sys.hpp"
#include "policy/error.hpp"

namespace aj::helper {

namespace {
struct CapFree {
    void operator()(cap_t c) const noexcept { cap_free(c); }
};
using CapHandle = std::unique_ptr<std::remove_pointer_t<cap_t>, CapFree>;

void verify_sets_empty() {
    CapHandle none(cap_init());  // cap_init(): every set empty
    CapHandle now(cap_get_proc());
    if (!none || !now) throw_errno("verifying capabilities: cap_get_proc");
    if (cap_compare(now.get(), none.get()) != 0) throw Error("dropping capabilities: some remain after cap_set_proc");
}

}  // namespace

void drop_all_capabilities() {
    // The bounding set must go first: it limits what any later execve could regain, and
    // dropping from it requires CAP_SETPCAP, which the last step removes.
    // cap_max_bits(): what the running kernel knows, which may exceed this libcap's list.
    // Each entry is confirmed gone here (its drop succeeded, or it reads as absent), so
    // the bounding set needs no second pass: on this kind of host every system call
    // costs microseconds, and a pass is dozens of them.
    const auto max = static_cast<cap_value_t>(cap_max_bits());
    for (cap_value_t cap = 0; cap < max; ++cap) {
        if (cap_drop_bound(cap) == 0) continue;
        // Without CAP_SETPCAP (a hardened parent already dropped it) the drop fails:
        // fine exactly when the capability is gone already.
        const int err = errno;
        if (err == EPERM && cap_get_bound(cap) == 0) continue;
        throw_errno("dropping capability " + std::to_string(cap) + " from the bounding set", err);
    }
    // One call (libcap's cap_reset_ambient() asks about every capability first).
    sys::check(::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clearing the ambient capability set");
    CapHandle none(cap_init());
    if (!none) throw_errno("dropping capabilities: cap_init");
    if (cap_set_proc(none.get()) != 0) throw_errno("dropping capabilities: cap_set_proc");
    verify_sets_empty();
}

void verify_no_capabilities() {
    // The ambient set needs no check of its own: the kernel keeps it within permitted.
    // The bounding set is not read back either: no process can add to one, and the
    // caller's was inherited from a process that emptied it entry by entry
    // (drop_all_capabilities). What a process holds (effective, permitted, inheritable)
    // is one capget.
    verify_sets_empty();
}

}  // namespace aj::helper
