#include "oci/seccomp_profile.hpp"

#include <linux/seccomp.h>
#include <seccomp.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "policy/error.hpp"

namespace aj::oci {

using nlohmann::json;

namespace {

// The largest value SECCOMP_RET_DATA holds: a larger errnoRet would be cut silently.
constexpr std::uint64_t kMaxRetData = 0xffff;
constexpr unsigned kArgCount = 6;

[[noreturn]] void refuse(const std::string& field, const std::string& why) {
    throw Error("config.json: " + field + ": " + why);
}

void refuse_unknown_keys(const json& object, const std::set<std::string>& known, const std::string& where) {
    for (const auto& [key, value] : object.items())
        if (!known.contains(key)) refuse(where + key, "not a field this build knows (refused rather than ignored)");
}

std::string string_of(const json& v, const std::string& field) {
    if (!v.is_string()) refuse(field, "must be a string");
    return v.get<std::string>();
}

std::uint64_t unsigned_of(const json& v, const std::string& field) {
    if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0))
        refuse(field, "must be a non-negative integer");
    return v.get<std::uint64_t>();
}

const json& array_of(const json& v, const std::string& field) {
    if (!v.is_array()) refuse(field, "must be an array");
    return v;
}

// The runtime-spec's action names. SCMP_ACT_KILL is runc's thread kill.
const std::map<std::string, std::uint32_t>& actions() {
    static const std::map<std::string, std::uint32_t> table = {
        {"SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD},
        {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD},
        {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
        {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
        {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0)},
        {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0)},
        {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},
        {"SCMP_ACT_LOG", SCMP_ACT_LOG},
    };
    return table;
}

const std::map<std::string, scmp_compare>& operators() {
    static const std::map<std::string, scmp_compare> table = {
        {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
        {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
        {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
    };
    return table;
}

// The runtime-spec's architecture names; each maps to libseccomp's name for it
// ("SCMP_ARCH_X86_64" -> "x86_64") when this libseccomp knows it.
const std::vector<std::string>& spec_archs() {
    static const std::vector<std::string> names = {
        "SCMP_ARCH_X86",         "SCMP_ARCH_X86_64",  "SCMP_ARCH_X32",     "SCMP_ARCH_ARM",
        "SCMP_ARCH_AARCH64",     "SCMP_ARCH_MIPS",    "SCMP_ARCH_MIPS64",  "SCMP_ARCH_MIPS64N32",
        "SCMP_ARCH_MIPSEL",      "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
        "SCMP_ARCH_PPC64",       "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390",    "SCMP_ARCH_S390X",
        "SCMP_ARCH_PARISC",      "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64",
        "SCMP_ARCH_M68K",        "SCMP_ARCH_SH",      "SCMP_ARCH_SHEB",
    };
    return names;
}

std::optional<std::uint32_t> libseccomp_arch(const std::string& spec_name) {
    constexpr std::string_view prefix = "SCMP_ARCH_";
    if (!spec_name.starts_with(prefix) ||
        std::find(spec_archs().begin(), spec_archs().end(), spec_name) == spec_archs().end())
        return std::nullopt;
    std::string name = spec_name.substr(prefix.size());
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    const std::uint32_t token = seccomp_arch_resolve_name(name.c_str());
    if (token == 0) return std::nullopt;
    return token;
}

// Known flags: their seccomp(2) bit, 0 for one that is accepted and has no effect.
// TSYNC synchronises the filter onto the caller's other threads: the process loading it
// is a thread group of one (PID 1's vfork-style child, or exec's child) that execs next,
// so there is nothing to synchronise. WAIT_KILLABLE_RECV only matters with a listener,
// which a profile cannot have (SCMP_ACT_NOTIFY is refused): refused with it.
const std::map<std::string, unsigned>& supported_flags() {
    static const std::map<std::string, unsigned> table = {
        {"SECCOMP_FILTER_FLAG_TSYNC", 0},
        {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
        {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
    };
    return table;
}

// The verdict for an action name and its errnoRet (ERRNO and TRACE carry it; EPERM
// when absent, as runc does; refused with any other action).
std::uint32_t verdict(const std::string& name, const json* errno_ret, const std::string& field,
                      const std::string& errno_field) {
    if (name == "SCMP_ACT_NOTIFY")
        refuse(field, "SCMP_ACT_NOTIFY is not supported: aurora-runc has no seccomp agent to answer the calls");
    const auto it = actions().find(name);
    if (it == actions().end()) refuse(field, name + " is not a known action");
    const bool carries_errno = name == "SCMP_ACT_ERRNO" || name == "SCMP_ACT_TRACE";
    const bool errno_given = errno_ret && !errno_ret->is_null();
    // The runtime-spec: an errno for an action that takes none is an error.
    if (!carries_errno && errno_given) refuse(errno_field, "given, but " + name + " returns no errno");
    if (!carries_errno) return it->second;
    std::uint64_t value = EPERM;
    if (errno_given) {
        value = unsigned_of(*errno_ret, errno_field);
        if (value > kMaxRetData) refuse(errno_field, std::to_string(value) + " is larger than seccomp can return");
    }
    const auto data = static_cast<std::uint32_t>(value);
    return name == "SCMP_ACT_ERRNO" ? SCMP_ACT_ERRNO(data) : SCMP_ACT_TRACE(data);
}

using Ctx = std::unique_ptr<void, decltype(&seccomp_release)>;

void check(int rc, const std::string& field, const std::string& what) {
    if (rc < 0) refuse(field, what + ": libseccomp says " + errno_text(-rc));
}

std::vector<scmp_arg_cmp> parse_args(const json& args, const std::string& field) {
    std::vector<scmp_arg_cmp> out;
    for (std::size_t i = 0; i < array_of(args, field).size(); ++i) {
        const json& a = args[i];
        const std::string at = field + "[" + std::to_string(i) + "]";
        if (!a.is_object()) refuse(at, "must be an object");
        refuse_unknown_keys(a, {"index", "value", "valueTwo", "op"}, at + ".");
        if (!a.contains("index")) refuse(at + ".index", "is required");
        if (!a.contains("op")) refuse(at + ".op", "is required");
        const std::uint64_t index = unsigned_of(a.at("index"), at + ".index");
        if (index >= kArgCount) refuse(at + ".index", std::to_string(index) + " is not an argument (0 to 5)");
        const std::string op = string_of(a.at("op"), at + ".op");
        const auto it = operators().find(op);
        if (it == operators().end()) refuse(at + ".op", op + " is not a known operator");
        const std::uint64_t value = a.contains("value") ? unsigned_of(a.at("value"), at + ".value") : 0;
        const std::uint64_t two = a.contains("valueTwo") ? unsigned_of(a.at("valueTwo"), at + ".valueTwo") : 0;
        // MASKED_EQ: value is the mask, valueTwo the datum, as libseccomp takes them.
        out.push_back(scmp_arg_cmp{static_cast<unsigned>(index), it->second, value, two});
    }
    return out;
}

// Comparisons of one argument index each go into one rule (all must hold). When two
// name the same index, each becomes a rule of its own (any may hold), as runc does:
// libseccomp takes one comparison per argument in a rule.
std::vector<std::vector<scmp_arg_cmp>> rule_conditions(const std::vector<scmp_arg_cmp>& args) {
    std::set<unsigned> indexes;
    bool repeated = false;
    for (const scmp_arg_cmp& a : args) repeated |= !indexes.insert(a.arg).second;
    if (!repeated) return {args};
    std::vector<std::vector<scmp_arg_cmp>> out;
    for (const scmp_arg_cmp& a : args) out.push_back({a});
    return out;
}

void add_syscall_entry(scmp_filter_ctx ctx, const json& entry, std::uint32_t default_action,
                       const std::string& field) {
    if (!entry.is_object()) refuse(field, "must be an object");
    refuse_unknown_keys(entry, {"names", "action", "errnoRet", "args"}, field + ".");
    if (!entry.contains("names")) refuse(field + ".names", "is required");
    if (!entry.contains("action")) refuse(field + ".action", "is required");
    const std::uint32_t action = verdict(string_of(entry.at("action"), field + ".action"),
                                         entry.contains("errnoRet") ? &entry.at("errnoRet") : nullptr,
                                         field + ".action", field + ".errnoRet");
    const std::vector<scmp_arg_cmp> args =
        entry.contains("args") && !entry.at("args").is_null() ? parse_args(entry.at("args"), field + ".args")
                                                               : std::vector<scmp_arg_cmp>{};
    const json& names = array_of(entry.at("names"), field + ".names");
    if (names.empty()) refuse(field + ".names", "must name at least one system call");
    // The same verdict as the default: nothing to add (libseccomp refuses such a rule).
    if (action == default_action) {
        for (std::size_t i = 0; i < names.size(); ++i) string_of(names[i], field + ".names[" + std::to_string(i) + "]");
        return;
    }
    for (std::size_t i = 0; i < names.size(); ++i) {
        const std::string name_field = field + ".names[" + std::to_string(i) + "]";
        const std::string name = string_of(names[i], name_field);
        const int nr = seccomp_syscall_resolve_name(name.c_str());
        if (nr == __NR_SCMP_ERROR) continue;  // unknown to this libseccomp or this architecture
        for (const auto& cond : rule_conditions(args))
            check(seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(cond.size()), cond.data()),
                  name_field, "adding the rule for " + name);
    }
}

}  // namespace

policy::SeccompProgram compile_seccomp_profile(const json& profile) {
    const std::string at = "linux.seccomp";
    if (!profile.is_object()) refuse(at, "must be an object");
    refuse_unknown_keys(profile,
                        {"defaultAction", "defaultErrnoRet", "architectures", "flags", "listenerPath",
                         "listenerMetadata", "syscalls"},
                        at + ".");
    if (profile.contains("listenerPath") && !string_of(profile.at("listenerPath"), at + ".listenerPath").empty())
        refuse(at + ".listenerPath", "not supported: aurora-runc has no seccomp agent to hand the listener to");
    if (profile.contains("listenerMetadata")) string_of(profile.at("listenerMetadata"), at + ".listenerMetadata");
    if (!profile.contains("defaultAction")) refuse(at + ".defaultAction", "is required");
    const std::uint32_t default_action =
        verdict(string_of(profile.at("defaultAction"), at + ".defaultAction"),
                profile.contains("defaultErrnoRet") ? &profile.at("defaultErrnoRet") : nullptr,
                at + ".defaultAction", at + ".defaultErrnoRet");

    Ctx ctx(seccomp_init(default_action), &seccomp_release);
    if (!ctx) refuse(at + ".defaultAction", "libseccomp refused it (seccomp_init failed)");
    // aurora-jail sets no_new_privs itself, as the config asks; the program is only exported.
    check(seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0), at, "clearing the NNP attribute");
    // Binary-tree dispatch: podman's default profile names some 400 calls on three ABIs,
    // which a linear program would compare one by one on every call the container makes.
    const int tree = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2);
    if (tree < 0 && tree != -EOPNOTSUPP && tree != -EINVAL) check(tree, at, "enabling the binary tree");
    if (profile.contains("architectures") && !profile.at("architectures").is_null()) {
        const json& archs = array_of(profile.at("architectures"), at + ".architectures");
        for (std::size_t i = 0; i < archs.size(); ++i) {
            const std::string field = at + ".architectures[" + std::to_string(i) + "]";
            const std::string name = string_of(archs[i], field);
            const std::optional<std::uint32_t> token = libseccomp_arch(name);
            if (!token) refuse(field, name + " is not an architecture this build knows");
            const int rc = seccomp_arch_add(ctx.get(), *token);
            if (rc != -EEXIST) check(rc, field, "adding " + name);
        }
    }
    policy::SeccompProgram program;
    if (profile.contains("flags") && !profile.at("flags").is_null()) {
        const json& flags = array_of(profile.at("flags"), at + ".flags");
        for (std::size_t i = 0; i < flags.size(); ++i) {
            const std::string field = at + ".flags[" + std::to_string(i) + "]";
            const std::string name = string_of(flags[i], field);
            if (name == "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV")
                refuse(field, name + " is for a listener, and SCMP_ACT_NOTIFY is not supported");
            const auto it = supported_flags().find(name);
            if (it == supported_flags().end()) refuse(field, name + " is not a flag this build knows");
            program.flags |= it->second;
        }
    }
    if (profile.contains("syscalls") && !profile.at("syscalls").is_null()) {
        const json& calls = array_of(profile.at("syscalls"), at + ".syscalls");
        for (std::size_t i = 0; i < calls.size(); ++i)
            add_syscall_entry(ctx.get(), calls[i], default_action, at + ".syscalls[" + std::to_string(i) + "]");
    }
    policy::SeccompProgram exported = policy::export_seccomp_filter(ctx.get());
    exported.flags = program.flags;
    return exported;
}

void check_policy_admits_profile(const policy::Policy& policy) {
    // Kernel delivery: what the container's supervisor would deliver, the kernel refuses
    // alike; either way the call would not reach the kernel's seccomp(2).
    if (!policy::admits_syscall(policy::seccomp_inputs(policy, policy::DenialDelivery::Kernel), "seccomp"))
        refuse("linux.seccomp", "the container's aurora-jail policy refuses seccomp(2), so the profile could not be "
                                "loaded on top of the policy's filter (allow seccomp in the policy)");
}

std::vector<std::string> seccomp_profile_actions() {
    std::vector<std::string> names;
    for (const auto& [name, action] : actions()) names.push_back(name);
    return names;
}

std::vector<std::string> seccomp_profile_operators() {
    std::vector<std::string> names;
    for (const auto& [name, op] : operators()) names.push_back(name);
    return names;
}

std::vector<std::string> seccomp_profile_archs() {
    std::vector<std::string> names;
    for (const std::string& name : spec_archs())
        if (libseccomp_arch(name)) names.push_back(name);
    return names;
}

std::vector<std::string> seccomp_profile_known_flags() {
    std::vector<std::string> names = seccomp_profile_supported_flags();
    names.emplace_back("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV");
    return names;
}

std::vector<std::string> seccomp_profile_supported_flags() {
    std::vector<std::string> names;
    for (const auto& [name, bit] : supported_flags()) names.push_back(name);
    return names;
}

}  // namespace aj::oci
