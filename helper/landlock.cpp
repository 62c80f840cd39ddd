#include "helper/landlock.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>

#include "helper/system_view.hpp"
#include "policy/sys.hpp"

namespace aj::helper {
namespace {

// The kernel ABI, spelled out here because distribution headers lag the kernel (Debian
// 12's <linux/landlock.h> stops at ABI 2). Values are the kernel's UAPI.
struct RulesetAttr {
    std::uint64_t handled_access_fs;
    std::uint64_t handled_access_net;  // ABI 4
    std::uint64_t scoped;              // ABI 6
};
struct PathBeneathAttr {
    std::uint64_t allowed_access;
    std::int32_t parent_fd;
} __attribute__((packed));

constexpr std::uint32_t kCreateRulesetVersion = 1u << 0;
constexpr int kRulePathBeneath = 1;

constexpr std::uint64_t kExecute = 1ull << 0;
constexpr std::uint64_t kWriteFile = 1ull << 1;
constexpr std::uint64_t kReadFile = 1ull << 2;
constexpr std::uint64_t kReadDir = 1ull << 3;
constexpr std::uint64_t kAbi1All = (1ull << 13) - 1;  // EXECUTE .. MAKE_SYM
constexpr std::uint64_t kRefer = 1ull << 13;           // ABI 2
constexpr std::uint64_t kTruncate = 1ull << 14;        // ABI 3
constexpr std::uint64_t kIoctlDev = 1ull << 15;        // ABI 5
// Rights that make sense on a file (the kernel rejects directory rights on one).
constexpr std::uint64_t kFileRights = kExecute | kWriteFile | kReadFile | kTruncate | kIoctlDev;
constexpr std::uint64_t kReadOnlyRights = kExecute | kReadFile | kReadDir;

constexpr std::uint64_t kNetBindTcp = 1ull << 0;     // ABI 4
constexpr std::uint64_t kNetConnectTcp = 1ull << 1;  // ABI 4
constexpr std::uint64_t kScopeAbstractUnix = 1ull << 0;  // ABI 6
constexpr std::uint64_t kScopeSignal = 1ull << 1;        // ABI 6

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif

long create_ruleset(const RulesetAttr* attr, std::size_t size, std::uint32_t flags) {
    return ::syscall(SYS_landlock_create_ruleset, attr, size, flags);
}

std::uint64_t fs_rights(int abi) {
    std::uint64_t r = kAbi1All;
    if (abi >= 2) r |= kRefer;
    if (abi >= 3) r |= kTruncate;
    if (abi >= 5) r |= kIoctlDev;
    return r;
}

// Only the fields the running ABI knows: older kernels reject a larger struct unless the
// extra bytes are zero, and a smaller size keeps that true by construction.
std::size_t attr_size(int abi) {
    if (abi >= 6) return sizeof(RulesetAttr);
    if (abi >= 4) return offsetof(RulesetAttr, scoped);
    return offsetof(RulesetAttr, handled_access_net);
}

}  // namespace

LandlockSupport probe_landlock() {
    long abi = create_ruleset(nullptr, 0, kCreateRulesetVersion);
    if (abi >= 1) return {static_cast<int>(abi), ""};
    switch (errno) {
        case ENOSYS: return {0, "the kernel has no Landlock system calls (built without CONFIG_SECURITY_LANDLOCK, or older than 5.13)"};
        case EOPNOTSUPP: return {0, "Landlock is built in but not enabled at boot (add landlock to the lsm= kernel parameter)"};
        default: return {0, "landlock_create_ruleset: " + errno_text(errno)};
    }
}

std::vector<LandlockRule> landlock_rules_for(const policy::Policy& policy) {
    std::vector<LandlockRule> rules;
    for (const auto& p : policy.allowed_paths) rules.push_back({p.path, p.mode});
    // Without a mount namespace the view's host entries are readable where they are; its
    // links need no rule (a path walk is not a Landlock access), and its synthesized
    // files cannot exist: the host's own passwd and group stay unreadable.
    if (policy.system_view)
        for (auto& e : system_view_host_stats(policy.network))
            if (!S_ISLNK(e.st.st_mode)) rules.push_back({std::move(e.path), policy::PathMode::ReadOnly});
    return rules;
}

LandlockApplied apply_landlock(const std::vector<LandlockRule>& rules, const LandlockOptions& options) {
    LandlockApplied applied;
    LandlockSupport support = probe_landlock();
    if (support.abi == 0) return applied;
    int abi = support.abi;
    applied.abi = abi;

    RulesetAttr attr{};
    attr.handled_access_fs = fs_rights(abi);
    if (abi >= 4 && options.deny_tcp) {
        attr.handled_access_net = kNetBindTcp | kNetConnectTcp;
        applied.tcp_denied = true;
    }
    if (abi >= 6 && options.scope_ipc) {
        attr.scoped = kScopeAbstractUnix | kScopeSignal;
        applied.ipc_scoped = true;
    }
    long rfd = create_ruleset(&attr, attr_size(abi), 0);
    if (rfd < 0) throw_errno("landlock: creating the ruleset");
    sys::UniqueFd ruleset(static_cast<int>(rfd));

    for (const auto& rule : rules) {
        int fd = sys::retry_eintr([&] { return ::open(rule.path.c_str(), O_PATH | O_CLOEXEC); });
        if (fd < 0) {
            if (errno == ENOENT) {
                applied.skipped.push_back(rule.path);
                continue;
            }
            throw_errno("landlock: opening rule path " + rule.path);
        }
        sys::UniqueFd path_fd(fd);
        struct stat st {};
        if (::fstat(fd, &st) != 0) throw_errno("landlock: fstat " + rule.path);
        std::uint64_t access = rule.mode == policy::PathMode::ReadWrite ? fs_rights(abi) : kReadOnlyRights;
        access &= fs_rights(abi);
        if (!S_ISDIR(st.st_mode)) access &= kFileRights;
        PathBeneathAttr beneath{access, fd};
        if (::syscall(SYS_landlock_add_rule, ruleset.get(), kRulePathBeneath, &beneath, 0) != 0)
            throw_errno("landlock: adding a rule for " + rule.path);
    }
    if (::syscall(SYS_landlock_restrict_self, ruleset.get(), 0) != 0)
        throw_errno("landlock: restricting the process (is no_new_privs set?)");
    return applied;
}

}  // namespace aj::helper
