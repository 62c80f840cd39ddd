// Policy -> seccomp BPF via libseccomp. The rule set is decided first as plain data
// (which call gets which verdict under which argument condition), then handed to
// libseccomp in one place, so both modes share the same argument rules.
#include "policy/seccomp_compile.hpp"

#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <set>

#include "policy/default_deny.hpp"
#include "policy/error.hpp"
#include "policy/fallocate_rules.hpp"
#include "policy/path_calls.hpp"
#include "policy/seccomp_unknown_numbers.hpp"
#include "policy/setid_rules.hpp"
#include "policy/syscall_names.hpp"

namespace aj::policy {
namespace {

// The kernel refuses longer programs (BPF_MAXINSNS).
constexpr std::size_t kMaxInstructions = 4096;

using Ctx = std::unique_ptr<void, decltype(&seccomp_release)>;

std::string syscall_label(int nr) {
    std::unique_ptr<char, decltype(&std::free)> name(
        seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr), &std::free);
    return name ? std::string(name.get()) : "syscall " + std::to_string(nr);
}

void check_seccomp(int rc, const std::string& what) {
    if (rc < 0) throw Error("compiling seccomp filter: " + what + ": " + errno_text(-rc), kExitInternal, -rc);
}

std::uint32_t blocked_action(const SyscallAction& a) {
    switch (a.kind) {
    case BlockedAction::Kill: return SCMP_ACT_KILL_PROCESS;
    case BlockedAction::Log: return SCMP_ACT_LOG;
    case BlockedAction::Errno: break;
    }
    return SCMP_ACT_ERRNO(static_cast<std::uint32_t>(a.errno_value));
}

// Whether the program hands errno refusals to the supervisor: only an errno answer can
// be delivered (a kill or a log stays the kernel's, see DenialDelivery).
bool supervised(const SeccompInputs& p) {
    return p.delivery == DenialDelivery::Supervisor && p.action.kind == BlockedAction::Errno;
}

// The verdict of an unconditional refusal: the supervisor's when supervised. Argument
// rules keep blocked_action(): delivering them would cost a round trip for calls
// programs make all the time (ioctl, clone) and say nothing the rule's name does not.
std::uint32_t unconditional_block(const SeccompInputs& p) {
    return supervised(p) || p.delivery == DenialDelivery::Learn ? SCMP_ACT_NOTIFY : blocked_action(p.action);
}

// Whether `verdict` lets the call happen: allowed, logged, or (learning) delivered to be
// let through.
bool permits(std::uint32_t verdict, DenialDelivery delivery) {
    return verdict == SCMP_ACT_ALLOW || verdict == SCMP_ACT_LOG ||
           (verdict == SCMP_ACT_NOTIFY && delivery == DenialDelivery::Learn);
}

scmp_arg_cmp low32_eq(unsigned arg, std::uint32_t mask, std::uint32_t value) {
    return scmp_arg_cmp{arg, SCMP_CMP_MASKED_EQ, mask, value};
}

// A condition: comparisons that must all hold. A rule matches when any condition does.
using Condition = std::vector<scmp_arg_cmp>;

// Alternatives matching exactly the low-32-bit values NOT in `values`: walk the binary
// trie of the values from the top bit and emit every prefix that leaves the set
// (at most 32 * |values| conditions; two values close together need about 35).
void complement_prefixes(unsigned arg, const std::set<std::uint32_t>& values, std::uint32_t prefix,
                         int depth, std::vector<Condition>& out) {
    if (values.empty()) {
        std::uint32_t mask = depth == 0 ? 0 : ~std::uint32_t{0} << (32 - depth);
        out.push_back({low32_eq(arg, mask, prefix)});
        return;
    }
    if (depth == 32) return;
    const std::uint32_t bit = std::uint32_t{1} << (31 - depth);
    std::set<std::uint32_t> zero, one;
    for (auto v : values) (v & bit ? one : zero).insert(v);
    complement_prefixes(arg, zero, prefix, depth + 1, out);
    complement_prefixes(arg, one, prefix | bit, depth + 1, out);
}

// When the rule's call must be refused.
std::vector<Condition> refuse_when(const ArgRule& r) {
    std::vector<Condition> out;
    switch (r.kind) {
    case ArgRule::Kind::BlockValues:
        for (auto v : r.values) out.push_back({low32_eq(r.arg, 0xffffffffu, v)});
        break;
    case ArgRule::Kind::AllowOnlyValues:
        if (r.values.size() == 1) {
            // One comparison of all 64 bits: it can only refuse more than the kernel's
            // 32-bit view would (high bits set is refused too), never less.
            out.push_back({scmp_arg_cmp{r.arg, SCMP_CMP_NE, r.values.front(), 0}});
        } else {
            // libseccomp takes one comparison per argument and rule: use the exact
            // low-32-bit complement instead.
            complement_prefixes(r.arg, std::set<std::uint32_t>(r.values.begin(), r.values.end()), 0, 0, out);
        }
        break;
    case ArgRule::Kind::BlockAnyBit:
        for (int b = 0; b < 32; ++b)
            if (r.bits & (std::uint32_t{1} << b)) out.push_back({low32_eq(r.arg, 1u << b, 1u << b)});
        break;
    }
    return out;
}

// When the call may pass: the complement of refuse_when (or a subset of it: passing
// less is safe).
std::vector<Condition> permit_when(const ArgRule& r) {
    std::vector<Condition> out;
    switch (r.kind) {
    case ArgRule::Kind::BlockValues:
        complement_prefixes(r.arg, std::set<std::uint32_t>(r.values.begin(), r.values.end()), 0, 0, out);
        break;
    case ArgRule::Kind::AllowOnlyValues:
        for (auto v : r.values) out.push_back({scmp_arg_cmp{r.arg, SCMP_CMP_EQ, v, 0}});
        break;
    case ArgRule::Kind::BlockAnyBit:
        out.push_back({low32_eq(r.arg, r.bits, 0)});
        break;
    }
    return out;
}

// A verdict for one syscall: unconditional, or under any of the argument alternatives.
struct Rule {
    std::uint32_t action;
    std::vector<Condition> any_of;   // empty: always
};

// Each syscall's verdicts. Several only with disjoint conditions: libseccomp lets an
// unconditional rule silently win over conditional ones of the same call.
struct Plan {
    std::uint32_t default_action;
    std::map<int, std::vector<Rule>> rules;
};

// When a set-id mode rule refuses its call: a set-id bit in the mode (and, for the open
// family, a creating flag).
std::vector<Condition> setid_refused(const SetidModeRule& r) {
    std::vector<Condition> out;
    for (unsigned bit : kSetidBits) {
        if (!r.flags_arg) {
            out.push_back({low32_eq(r.mode_arg, bit, bit)});
            continue;
        }
        for (unsigned flag : kCreatingOpenFlags)
            out.push_back({low32_eq(*r.flags_arg, flag, flag), low32_eq(r.mode_arg, bit, bit)});
    }
    return out;
}

// Exactly the complement of setid_refused.
std::vector<Condition> setid_permitted(const SetidModeRule& r) {
    unsigned setid = 0, creating = 0;
    for (unsigned bit : kSetidBits) setid |= bit;
    for (unsigned flag : kCreatingOpenFlags) creating |= flag;
    std::vector<Condition> out{{low32_eq(r.mode_arg, setid, 0)}};
    if (r.flags_arg) out.push_back({low32_eq(*r.flags_arg, creating, 0)});
    return out;
}

// A refusal by argument that holds whatever the policy's action: `refused` arguments get
// `answer`, the call's other verdict stays. A call the policy refuses anyway (errno or
// kill) needs nothing more; one it lets through (allowed, or only logged) keeps that
// verdict for `permitted` (exactly the complement of `refused`).
void add_fixed_refusal(Plan& plan, DenialDelivery delivery, std::string_view syscall, std::uint32_t answer,
                       std::vector<Condition> refused, std::vector<Condition> permitted, const char* what) {
    const int nr = resolve_syscall(syscall);
    if (nr < 0) return;  // absent on this ABI (the unknown-number prefix answers it)
    auto it = plan.rules.find(nr);
    if (it == plan.rules.end()) {
        if (!permits(plan.default_action, delivery)) return;
        plan.rules[nr] = {Rule{answer, std::move(refused)}};
        return;
    }
    if (it->second.size() != 1 || !it->second.front().any_of.empty())
        throw Error("compiling seccomp filter: " + std::string(syscall) + " has argument rules of its own and " + what);
    const std::uint32_t verdict = it->second.front().action;
    if (!permits(verdict, delivery)) return;
    it->second = {Rule{answer, std::move(refused)}, Rule{verdict, std::move(permitted)}};
}

// Set-id modes get EPERM whatever the policy's action.
void add_setid_rules(Plan& plan, DenialDelivery delivery) {
    for (const SetidModeRule& r : setid_mode_rules())
        add_fixed_refusal(plan, delivery, r.syscall, SCMP_ACT_ERRNO(EPERM), setid_refused(r), setid_permitted(r),
                          "a set-id mode rule");
}

// fallocate modes that allocate past the end of a file without growing it get
// EOPNOTSUPP whatever the policy's action (policy/fallocate_rules.hpp).
void add_fallocate_rule(Plan& plan, DenialDelivery delivery) {
    const FallocateRule& r = kFallocateRule;
    std::vector<Condition> refused{{low32_eq(r.mode_arg, r.mask, r.value)}};
    // The complement: any bit of the mask differing from `value`.
    std::vector<Condition> permitted;
    for (int b = 0; b < 32; ++b) {
        const std::uint32_t bit = std::uint32_t{1} << b;
        if (r.mask & bit) permitted.push_back({low32_eq(r.mode_arg, bit, (r.value & bit) ^ bit)});
    }
    add_fixed_refusal(plan, delivery, r.syscall, SCMP_ACT_ERRNO(static_cast<std::uint32_t>(r.errno_value)),
                      std::move(refused), std::move(permitted), "the fallocate mode rule");
}

// Learning: the calls that name a path are delivered wherever they would simply pass.
void deliver_path_calls(Plan& plan) {
    for (const PathCall& call : path_calls()) {
        const int nr = resolve_syscall(call.syscall);
        if (nr < 0) continue;
        auto it = plan.rules.find(nr);
        const bool passes = it == plan.rules.end()
                                ? plan.default_action == SCMP_ACT_ALLOW
                                : it->second.size() == 1 && it->second.front().any_of.empty() &&
                                      it->second.front().action == SCMP_ACT_ALLOW;
        if (passes) plan.rules[nr] = {Rule{SCMP_ACT_NOTIFY, {}}};
    }
}

Plan plan_for(const SeccompInputs& p) {
    const std::uint32_t block = unconditional_block(p);
    const std::uint32_t block_args = blocked_action(p.action);
    const int enosys_nr = resolve_syscall(kEnosysSyscall);
    std::map<int, const ArgRule*> arg_rules;
    if (p.default_deny)
        for (const auto& r : default_arg_rules()) arg_rules[resolve_syscall(r.syscall)] = &r;

    Plan plan;
    if (p.allowed_syscalls) {
        // Allow-list: everything unlisted gets the blocked action; listed calls with an
        // argument rule pass only for harmless arguments.
        plan.default_action = block;
        for (int nr : expand_syscalls(*p.allowed_syscalls)) {
            auto it = arg_rules.find(nr);
            plan.rules[nr] = {it == arg_rules.end() ? Rule{SCMP_ACT_ALLOW, {}}
                                                    : Rule{SCMP_ACT_ALLOW, permit_when(*it->second)}};
        }
    } else {
        plan.default_action = SCMP_ACT_ALLOW;
        std::set<int> blocked = expand_syscalls(p.blocked_syscalls);
        if (p.default_deny) {
            std::vector<std::string> entries(default_deny_entries().begin(), default_deny_entries().end());
            blocked.merge(expand_syscalls(entries));
            blocked.insert(enosys_nr);
            for (const auto& [nr, rule] : arg_rules)
                if (!blocked.contains(nr)) plan.rules[nr] = {Rule{block_args, refuse_when(*rule)}};
        }
        for (int nr : blocked) plan.rules[nr] = {Rule{block, {}}};
    }
    // clone3, when refused or logged, always gets ENOSYS so glibc falls back to clone
    // (see default_deny.hpp). Under "log" too: the program then takes the path it takes
    // under enforcement, and the log shows clone's flags, which clone3 hides.
    if (enosys_nr >= 0) {
        auto it = plan.rules.find(enosys_nr);
        std::uint32_t current = it == plan.rules.end() ? plan.default_action : it->second.front().action;
        if (current != SCMP_ACT_ALLOW) plan.rules[enosys_nr] = {Rule{SCMP_ACT_ERRNO(ENOSYS), {}}};
    }
    if (p.delivery == DenialDelivery::Learn) deliver_path_calls(plan);
    add_setid_rules(plan, p.delivery);
    add_fallocate_rule(plan, p.delivery);
    const int struct_open_nr = resolve_syscall(kStructOpenSyscall);
    if (struct_open_nr >= 0) plan.rules[struct_open_nr] = {Rule{SCMP_ACT_ERRNO(ENOSYS), {}}};
    return plan;
}

// Takes only the inputs, so that nothing else in a Policy can change the program (the
// built-in default program relies on that).
Ctx build_filter(const SeccompInputs& p) {
    const Plan plan = plan_for(p);
    Ctx ctx(seccomp_init(plan.default_action), &seccomp_release);
    if (!ctx) throw Error("compiling seccomp filter: seccomp_init failed (unsupported default action?)");

    // Only the native ABI is in the filter; i386 (int 0x80) and x32 (nr | 0x40000000)
    // calls do not match it and are killed, so they cannot bypass the rules (a supervised
    // program's prefix delivers the ones libseccomp knows before they get here).
    check_seccomp(seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS),
                  "setting the foreign-architecture action");
    // The sandbox sets no_new_privs itself, as its own step, before loading.
    check_seccomp(seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0), "clearing the NNP attribute");
    // Binary-tree dispatch: O(log n) syscall lookup instead of a linear scan.
    int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2);
    if (rc < 0 && rc != -EOPNOTSUPP && rc != -EINVAL) check_seccomp(rc, "enabling the binary tree");

    for (const auto& [nr, rules] : plan.rules) {
        for (const Rule& rule : rules) {
            if (rule.action == plan.default_action) continue;
            if (rule.any_of.empty()) {
                check_seccomp(seccomp_rule_add_exact(ctx.get(), rule.action, nr, 0),
                              "adding a rule for " + syscall_label(nr));
                continue;
            }
            for (const auto& cond : rule.any_of)
                check_seccomp(seccomp_rule_add_exact_array(ctx.get(), rule.action, nr,
                                                           static_cast<unsigned>(cond.size()), cond.data()),
                              "adding an argument rule for " + syscall_label(nr));
        }
    }
    return ctx;
}

// socket(2)'s type argument also carries SOCK_NONBLOCK and SOCK_CLOEXEC.
constexpr std::uint32_t kSocketTypeMask = 0xf;
constexpr int kFchmodat2 = 452, kSetxattrat = 463, kRemovexattrat = 466, kFileSetattr = 469;

// libseccomp exports only to a file descriptor: use an anonymous memory file.
std::string export_to_memory(scmp_filter_ctx ctx, int (*exporter)(const scmp_filter_ctx, int),
                             const char* what) {
    int fd = memfd_create("aurora-jail-seccomp", MFD_CLOEXEC);
    if (fd < 0) throw_errno(std::string("compiling seccomp filter: memfd_create for ") + what);
    struct Closer {
        int fd;
        ~Closer() { close(fd); }
    } closer{fd};
    check_seccomp(exporter(ctx, fd), std::string("exporting the ") + what);
    if (lseek(fd, 0, SEEK_SET) < 0) throw_errno(std::string("compiling seccomp filter: rewinding the ") + what);
    std::string out;
    char buf[16384];
    while (true) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_errno(std::string("compiling seccomp filter: reading the ") + what);
        if (n == 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

std::string export_bpf(scmp_filter_ctx ctx) {
    std::string raw = export_to_memory(ctx, &seccomp_export_bpf, "BPF program");
    if (raw.empty() || raw.size() % sizeof(sock_filter) != 0)
        throw Error("compiling seccomp filter: libseccomp exported " + std::to_string(raw.size()) +
                    " bytes, not a whole number of instructions");
    return raw;
}

SeccompProgram with_prefix(std::vector<sock_filter> prefix_instructions, const std::string& raw) {
    SeccompProgram prog;
    prog.instructions = std::move(prefix_instructions);
    const std::size_t prefix = prog.instructions.size();
    prog.instructions.resize(prefix + raw.size() / sizeof(sock_filter));
    if (prog.instructions.size() > kMaxInstructions)
        throw Error("compiling seccomp filter: " + std::to_string(prog.instructions.size()) +
                    " instructions, more than the kernel's limit of " + std::to_string(kMaxInstructions));
    std::memcpy(prog.instructions.data() + prefix, raw.data(), raw.size());
    return prog;
}

SeccompProgram to_program(const Ctx& ctx, ForeignAbi foreign) {
    // The prefix jumps only forward within itself or to its end, and libseccomp's
    // program makes no assumption about what ran before it: concatenation is safe.
    return with_prefix(unknown_number_prefix(foreign), export_bpf(ctx.get()));
}

}  // namespace

SeccompProgram export_seccomp_filter(void* libseccomp_ctx) {
    return with_prefix({}, export_bpf(libseccomp_ctx));
}

SeccompInputs seccomp_inputs(const Policy& policy, DenialDelivery delivery) {
    return SeccompInputs{policy.blocked_syscalls, policy.allowed_syscalls, policy.action, policy.default_deny,
                         delivery};
}

SeccompProgram compile_seccomp(const Policy& policy, DenialDelivery delivery) {
    const SeccompInputs inputs = seccomp_inputs(policy, delivery);
    return to_program(build_filter(inputs), supervised(inputs) ? ForeignAbi::Notify : ForeignAbi::Kill);
}

bool admits_syscall(const SeccompInputs& inputs, std::string_view syscall) {
    const int nr = resolve_syscall(syscall);
    if (nr < 0) return false;
    const Plan plan = plan_for(inputs);
    const auto it = plan.rules.find(nr);
    if (it == plan.rules.end()) return plan.default_action == SCMP_ACT_ALLOW || plan.default_action == SCMP_ACT_LOG;
    return it->second.size() == 1 && it->second.front().any_of.empty() &&
           (it->second.front().action == SCMP_ACT_ALLOW || it->second.front().action == SCMP_ACT_LOG);
}

bool needs_listener(const SeccompProgram& program) {
    for (const sock_filter& f : program.instructions)
        if (f.code == (BPF_RET | BPF_K) && (f.k & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_USER_NOTIF) return true;
    return false;
}

DenialRules denial_rules(const SeccompInputs& p) {
    DenialRules rules;
    rules.errno_value = p.action.errno_value;
    rules.foreign_abi = "the foreign-ABI rule (only x86_64 calls are filtered by name)";
    auto name_entries = [&](const std::vector<std::string>& entries, const std::string& where) {
        for (std::size_t i = 0; i < entries.size(); ++i)
            for (int nr : expand_syscalls({entries[i]}))
                rules.by_nr.try_emplace(nr, where + "[" + std::to_string(i) + "] \"" + entries[i] + "\"");
    };
    if (p.allowed_syscalls) {
        rules.otherwise = "allowed_syscalls (not listed)";
        if (p.default_deny)
            for (const auto& r : default_arg_rules()) {
                const int nr = resolve_syscall(r.syscall);
                if (expand_syscalls(*p.allowed_syscalls).contains(nr))
                    rules.by_nr.try_emplace(nr, "the default argument rule for " + std::string(r.syscall));
            }
        return rules;
    }
    name_entries(p.blocked_syscalls, "blocked_syscalls");
    if (p.default_deny) {
        const std::vector<std::string> entries(default_deny_entries().begin(), default_deny_entries().end());
        name_entries(entries, "default_deny");
    }
    return rules;
}

SeccompProgram compile_fallback_filter(const FallbackFilterInputs& inputs) {
    if (!inputs.deny_network && !inputs.deny_metadata) return {};
    Ctx ctx(seccomp_init(SCMP_ACT_ALLOW), &seccomp_release);
    if (!ctx) throw Error("compiling the rlimit-only seccomp filter: seccomp_init failed");
    check_seccomp(seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS),
                  "setting the foreign-architecture action");
    check_seccomp(seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0), "clearing the NNP attribute");
    auto refuse = [&](int nr, int err, std::vector<scmp_arg_cmp> when = {}) {
        if (nr < 0) return;  // absent on this architecture
        check_seccomp(seccomp_rule_add_exact_array(ctx.get(), SCMP_ACT_ERRNO(static_cast<std::uint32_t>(err)), nr,
                                                   static_cast<unsigned>(when.size()), when.data()),
                      "adding a rule for " + syscall_label(nr));
    };
    if (inputs.deny_network) {
        for (const char* call : {"socket", "socketpair"}) {
            const int nr = resolve_syscall(call);
            refuse(nr, EAFNOSUPPORT, {scmp_arg_cmp{0, SCMP_CMP_NE, AF_UNIX, 0}});
            refuse(nr, EACCES, {low32_eq(1, kSocketTypeMask, SOCK_DGRAM)});
        }
        for (const char* call : {"connect", "bind", "listen", "io_uring_setup"}) refuse(resolve_syscall(call), EACCES);
    }
    if (inputs.deny_metadata) {
        for (const char* call : {"chmod", "fchmod", "fchmodat", "chown", "fchown", "lchown", "fchownat", "utime",
                                 "utimes", "futimesat", "utimensat", "setxattr", "lsetxattr", "fsetxattr",
                                 "removexattr", "lremovexattr", "fremovexattr"})
            refuse(resolve_syscall(call), EPERM);
        // Newer than this libseccomp knows by name; these numbers are the same on every
        // architecture (the unified table from 424 on).
        for (int nr : {kFchmodat2, kSetxattrat, kRemovexattrat, kFileSetattr}) refuse(nr, EPERM);
    }
    return to_program(ctx, ForeignAbi::Kill);
}

std::string seccomp_pseudo_code(const Policy& policy, DenialDelivery delivery) {
    const SeccompInputs inputs = seccomp_inputs(policy, delivery);
    Ctx ctx = build_filter(inputs);
    std::string code = export_to_memory(ctx.get(), &seccomp_export_pfc, "pseudo code");
    // This libseccomp prints the notification action as a bare number.
    const std::string bare = "action 0x7fc00000;";
    for (std::size_t at = code.find(bare); at != std::string::npos; at = code.find(bare, at))
        code.replace(at, bare.size(), "action NOTIFY;");
    return unknown_number_prefix_text(supervised(inputs) ? ForeignAbi::Notify : ForeignAbi::Kill) + code;
}

}  // namespace aj::policy
