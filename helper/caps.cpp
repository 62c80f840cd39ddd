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

// Asks the kernel cap by cap (PR_CAPBSET_READ): a few dozen cheap calls, cheaper than
// having it format all of /proc/self/status, and it needs no procfs.
void verify_bounding_set_empty(cap_value_t max) {
    for (cap_value_t cap = 0; cap < max; ++cap) {
        const int held = cap_get_bound(cap);
        if (held < 0) throw_errno("verifying capabilities: reading bounding-set entry " + std::to_string(cap));
        if (held != 0) throw Error("dropping capabilities: " + std::to_string(cap) + " remains in the bounding set");
    }
}

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
    const auto max = static_cast<cap_value_t>(cap_max_bits());
    for (cap_value_t cap = 0; cap < max; ++cap) {
        if (cap_drop_bound(cap) == 0) continue;
        // Without CAP_SETPCAP (a hardened parent already dropped it) the drop fails:
        // fine exactly when the capability is gone already.
        const int err = errno;
        if (err == EPERM && cap_get_bound(cap) == 0) continue;
        throw_errno("dropping capability " + std::to_string(cap) + " from the bounding set", err);
    }
    if (cap_reset_ambient() != 0) throw_errno("clearing the ambient capability set");
    CapHandle none(cap_init());
    if (!none) throw_errno("dropping capabilities: cap_init");
    if (cap_set_proc(none.get()) != 0) throw_errno("dropping capabilities: cap_set_proc");
    verify_no_capabilities();
}

void verify_no_capabilities() {
    // The ambient set needs no check of its own: the kernel keeps it within permitted.
    verify_sets_empty();
    verify_bounding_set_empty(static_cast<cap_value_t>(cap_max_bits()));
}

}  // namespace aj::helper
