#include "helper/caps.hpp"

#include <sys/capability.h>
#include <sys/prctl.h>

#include <algorithm>
#include <cctype>
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

std::optional<int> capability_number(const std::string& name) {
    // cap_from_name also takes numbers and any case: the spec's names are "CAP_" and
    // upper-case letters, digits and underscores only.
    if (!name.starts_with("CAP_") || name.size() == 4 ||
        !std::all_of(name.begin() + 4, name.end(), [](char c) { return std::isupper(static_cast<unsigned char>(c)) || c == '_'; }))
        return std::nullopt;
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
    cap_value_t value = 0;
    if (cap_from_name(lower.c_str(), &value) != 0 || value < 0 || value > 63) return std::nullopt;
    return static_cast<int>(value);
}

std::string capability_name(int cap) {
    char* name = cap_to_name(static_cast<cap_value_t>(cap));
    if (!name) return std::to_string(cap);
    std::string upper = name;
    cap_free(name);
    std::transform(upper.begin(), upper.end(), upper.begin(), [](char c) { return static_cast<char>(std::toupper(static_cast<unsigned char>(c))); });
    return upper;
}

int last_capability() { return static_cast<int>(cap_max_bits()) - 1; }

void set_kept_capabilities(const CapabilitySets& sets) {
    const auto max = static_cast<cap_value_t>(cap_max_bits());
    const auto listed = [](std::uint64_t mask, cap_value_t cap) { return ((mask >> cap) & 1U) != 0; };
    // Inheritable first, while the bounding set is still whole (a capability outside it
    // could not be added to the inheritable set any more).
    CapHandle now(cap_get_proc());
    if (!now) throw_errno("keeping the config's capabilities: cap_get_proc");
    if (cap_clear_flag(now.get(), CAP_INHERITABLE) != 0) throw_errno("keeping the config's capabilities: cap_clear_flag");
    for (cap_value_t cap = 0; cap < max; ++cap)
        if (listed(sets.inheritable, cap) && cap_set_flag(now.get(), CAP_INHERITABLE, 1, &cap, CAP_SET) != 0)
            throw_errno("keeping the config's capabilities: inheritable " + std::to_string(cap));
    if (cap_set_proc(now.get()) != 0) throw_errno("setting the inheritable capability set (cap_set_proc)");
    // Ambient: each must be permitted (all are, still) and inheritable (the caller checked).
    if (cap_reset_ambient() != 0) throw_errno("clearing the ambient capability set");
    for (cap_value_t cap = 0; cap < max; ++cap)
        if (listed(sets.ambient, cap) && cap_set_ambient(cap, CAP_SET) != 0)
            throw_errno("raising capability " + std::to_string(cap) + " into the ambient set");
    for (cap_value_t cap = 0; cap < max; ++cap)
        if (!listed(sets.bounding, cap) && cap_drop_bound(cap) != 0)
            throw_errno("dropping capability " + std::to_string(cap) + " from the bounding set");
    // Read back: what execve will compute from.
    CapHandle after(cap_get_proc());
    if (!after) throw_errno("verifying capabilities: cap_get_proc");
    for (cap_value_t cap = 0; cap < max; ++cap) {
        cap_flag_value_t inheritable = CAP_CLEAR;
        if (cap_get_flag(after.get(), cap, CAP_INHERITABLE, &inheritable) != 0)
            throw_errno("verifying capabilities: cap_get_flag");
        const int bound = cap_get_bound(cap);
        const int ambient = cap_get_ambient(cap);
        if (bound < 0 || ambient < 0) throw_errno("verifying capability " + std::to_string(cap));
        if ((inheritable == CAP_SET) != listed(sets.inheritable, cap) || (bound == 1) != listed(sets.bounding, cap) ||
            (ambient == 1) != listed(sets.ambient, cap))
            throw Error("keeping the config's capabilities: capability " + std::to_string(cap) +
                        " is not in the sets asked for after setting them");
    }
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
