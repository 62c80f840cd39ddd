#include "policy/error.hpp"

#include <cstring>

namespace aj {

std::string errno_name(int err) {
    const char* name = strerrorname_np(err);
    return name ? std::string(name) : std::string();
}

std::string errno_text(int err) {
    const char* name = strerrorname_np(err);
    const char* desc = strerrordesc_np(err);
    if (!name) return "errno " + std::to_string(err);
    return std::string(name) + " (" + (desc ? desc : "unknown") + ")";
}

int errno_from_name(std::string_view name) {
    // errno values are small; glibc names every one it knows.
    for (int e = 1; e < 4096; ++e) {
        const char* n = strerrorname_np(e);
        if (n && name == n) return e;
    }
    return -1;
}

void throw_errno(std::string_view what, int err) {
    throw Error(std::string(what) + ": " + errno_text(err), kExitInternal, err);
}

}  // namespace aj
