#include "helper/caps.hpp"

#include <sys/capability.h>
#include <sys/prctl.h>

#include <memory>
#include <string>

#include "policy/error.hpp"

namespace aj::helper {

namespace {
struct CapFree {
    void operator()(cap_t c) const noexcept { cap_free(c); }
};
using CapHandle = std::unique_ptr<std::remove_pointer_t<cap_t>, CapFree>;
}  // namespace

void drop_all_capabilities() {
    // The bounding set must go first: it limits what any later execve could regain, and
    // dropping from it requires CAP_SETPCAP, which the last step removes.
    // cap_max_bits(): what the running kernel knows, which may exceed this libcap's list.
    const auto max = static_cast<cap_value_t>(cap_max_bits());
    for (cap_value_t cap = 0; cap < max; ++cap) {
        // Already gone (inherited from a hardened parent): dropping again would need
        // CAP_SETPCAP, which may be gone too.
        if (cap_get_bound(cap) == 0) continue;
        if (cap_drop_bound(cap) != 0)
            throw_errno("dropping capability " + std::to_string(cap) + " from the bounding set");
    }
    if (cap_reset_ambient() != 0) throw_errno("clearing the ambient capability set");
    CapHandle none(cap_init());  // cap_init(): every set empty
    if (!none) throw_errno("dropping capabilities: cap_init");
    if (cap_set_proc(none.get()) != 0) throw_errno("dropping capabilities: cap_set_proc");

    CapHandle now(cap_get_proc());
    if (!now) throw_errno("verifying capabilities: cap_get_proc");
    if (cap_compare(now.get(), none.get()) != 0) throw Error("dropping capabilities: some remain after cap_set_proc");
    for (cap_value_t cap = 0; cap < max; ++cap)
        if (cap_get_bound(cap) != 0) throw Error("dropping capabilities: " + std::to_string(cap) + " remains in the bounding set");
}

}  // namespace aj::helper
