#include "helper/caps.hpp"

#include <sys/capability.h>
#include <sys/prctl.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "helper/sys.hpp"
#include "policy/error.hpp"

namespace aj::helper {

namespace {
struct CapFree {
    void operator()(cap_t c) const noexcept { cap_free(c); }
};
using CapHandle = std::unique_ptr<std::remove_pointer_t<cap_t>, CapFree>;

// The bounding set as /proc/self/status shows it ("CapBnd:\t000001ffffffffff"), read in
// one go; nullopt when no procfs is mounted there (then ask the kernel cap by cap).
std::optional<std::uint64_t> bounding_set_from_proc() {
    std::string status;
    try {
        status = sys::read_file("/proc/self/status", 1 << 16);
    } catch (const Error&) {
        return std::nullopt;
    }
    const std::string key = "\nCapBnd:";
    std::size_t at = status.find(key);
    if (at == std::string::npos) return std::nullopt;
    try {
        return std::stoull(status.substr(at + key.size()), nullptr, 16);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

void verify_bounding_set_empty(cap_value_t max) {
    if (std::optional<std::uint64_t> bnd = bounding_set_from_proc()) {
        if (*bnd != 0) throw Error("dropping capabilities: the bounding set is not empty (CapBnd " + std::to_string(*bnd) + ")");
        return;
    }
    for (cap_value_t cap = 0; cap < max; ++cap)
        if (cap_get_bound(cap) != 0) throw Error("dropping capabilities: " + std::to_string(cap) + " remains in the bounding set");
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
