// Compiles a Policy's syscall rules into a seccomp BPF program with libseccomp.
// Done in the runner before any namespace exists; the sandbox only loads the result.
#pragma once

#include <linux/filter.h>

#include <cerrno>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/policy.hpp"

namespace aj::policy {

struct SeccompProgram {
    std::vector<sock_filter> instructions;
    // True when taken from the program built in at build time (helper/seccomp_program.hpp)
    // rather than compiled for this run.
    bool precompiled = false;
    // SECCOMP_FILTER_FLAG_* passed to seccomp(2) when loading (an OCI profile's LOG or
    // SPEC_ALLOW); NEW_LISTENER is added by the loader when the program needs one.
    unsigned flags = 0;
};

// A libseccomp filter context (scmp_filter_ctx) exported as it is, without the policy
// program's prefix: for filters built elsewhere (an OCI config's profile, oci/).
SeccompProgram export_seccomp_filter(void* libseccomp_ctx);

// Who answers a call the policy refuses with an errno (blocked_action "errno").
enum class DenialDelivery {
    // The filter returns the errno itself (SECCOMP_RET_ERRNO): nobody hears of it.
    Kernel,
    // The filter returns SECCOMP_RET_USER_NOTIF and the runner's supervisor
    // (helper/notify_supervisor.hpp) answers with the same errno and records the rule.
    // Only unconditional refusals and foreign-ABI calls are delivered: argument rules,
    // set-id modes, clone3's and the unknown numbers' ENOSYS and kill stay kernel
    // actions (docs/design.md, "Denials that explain themselves"). Without a listener
    // the kernel answers a delivered call with ENOSYS: fail closed.
    Supervisor,
    // `aurora-jail learn` only: every call the policy refuses outright (whatever its
    // blocked_action) and every call that names a path (policy/path_calls.hpp) is
    // delivered, to be observed and let through (helper/learn_supervisor.hpp). Argument
    // rules, set-id modes and the fixed ENOSYS answers stay enforced by the kernel;
    // foreign-ABI calls are killed.
    Learn,
};

// Everything in a Policy that the seccomp program is compiled from: two policies with
// equal inputs get the same program from the same libseccomp build.
struct SeccompInputs {
    std::vector<std::string> blocked_syscalls;
    std::optional<std::vector<std::string>> allowed_syscalls;
    SyscallAction action;
    bool default_deny = true;
    DenialDelivery delivery = DenialDelivery::Kernel;
    bool operator==(const SeccompInputs&) const = default;
};
SeccompInputs seccomp_inputs(const Policy& policy, DenialDelivery delivery = DenialDelivery::Kernel);

SeccompProgram compile_seccomp(const Policy& policy, DenialDelivery delivery = DenialDelivery::Kernel);

// True when the program compiled from `inputs` lets the call named `syscall` through
// whatever its arguments (allowed or logged, never delivered): a program loaded after it
// needs seccomp(2) to pass.
bool admits_syscall(const SeccompInputs& inputs, std::string_view syscall);

// True when the program returns SECCOMP_RET_USER_NOTIF somewhere: it must be loaded
// with a listener (SECCOMP_FILTER_FLAG_NEW_LISTENER) that a supervisor reads.
bool needs_listener(const SeccompProgram& program);

// Which policy entry refuses each call a supervised program delivers: the provenance
// of its rules, for the denial lines and the report's "denials".
struct DenialRules {
    std::map<int, std::string> by_nr;  // native numbers: `blocked_syscalls[2] "@debug"`
    std::string otherwise;             // a native call not in by_nr (allow-list mode)
    std::string foreign_abi;           // i386 and x32 calls
    int errno_value = EPERM;           // the answer
};
DenialRules denial_rules(const SeccompInputs& inputs);

// rlimit-only mode's second filter, loaded before the policy's: what the missing
// namespaces would have given, as far as a filter can. Its refusals are fixed, whatever
// the policy's blocked_action says.
struct FallbackFilterInputs {
    // "network": "none" without a network namespace. socket()/socketpair() only for
    // AF_UNIX (EAFNOSUPPORT otherwise, so IPPROTO_MPTCP and every inet, netlink, packet
    // socket are refused) and never SOCK_DGRAM, whose sendmsg() names a peer the filter
    // cannot see; connect(), bind() and listen() refused (EACCES): the filter cannot read
    // the address, and Landlock does not check connect() on a socket file; io_uring
    // refused (its socket operations bypass these rules).
    bool deny_network = false;
    // chmod, chown, utime and xattr-setting calls refused (EPERM): Landlock does not cover
    // file metadata, so a read-only path's files that the sandbox uid owns could
    // otherwise be changed.
    bool deny_metadata = false;
};
// Empty when nothing is to be denied.
SeccompProgram compile_fallback_filter(const FallbackFilterInputs& inputs);
// The GNU build id (hex) of the loaded binary that holds libseccomp's compiler: the
// shared libseccomp, or this executable when linked in. Empty when it carries none.
std::string seccomp_compiler_build_id();
// libseccomp's human-readable pseudo-filter code for the same program.
std::string seccomp_pseudo_code(const Policy& policy, DenialDelivery delivery = DenialDelivery::Kernel);

}  // namespace aj::policy
