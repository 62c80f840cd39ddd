// The hardened default deny set as data: calls blocked outright, and calls blocked only
// for dangerous arguments. Covers what stale deny-lists elsewhere missed (the new mount
// API, namespace creation, TIOCSTI, userfaultfd, bpf, ...).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace aj::policy {

// Names and @groups blocked outright when default_deny is on (deny-list mode).
const std::vector<std::string_view>& default_deny_entries();

// A rule on one argument. The kernel reads these arguments as 32-bit values (ioctl's
// cmd is unsigned int, personality's persona is unsigned int, clone's legacy flags are
// taken from the lower 32 bits), so every comparison masks to the low 32 bits: setting
// high bits cannot dodge it (CVE-2019-10063).
struct ArgRule {
    enum class Kind {
        BlockValues,     // blocked when the argument is one of `values`
        AllowOnlyValues, // blocked unless the argument is one of `values`
        BlockAnyBit,     // blocked when any bit of `bits` is set
    };
    std::string_view syscall;
    unsigned arg;
    Kind kind;
    std::vector<std::uint32_t> values;
    std::uint32_t bits = 0;
};

const std::vector<ArgRule>& default_arg_rules();

// clone3 passes its flags in memory that seccomp cannot read, so it can never get an
// argument rule: it is answered with ENOSYS (never EPERM or a kill), which makes glibc
// fall back to clone, whose flags the rule above does check.
inline constexpr std::string_view kEnosysSyscall = "clone3";

}  // namespace aj::policy
