#include "policy/syscall_names.hpp"

#include <linux/audit.h>
#include <seccomp.h>

#include <cstdio>

#include <cstdlib>
#include <memory>

#include "policy/syscall_groups.hpp"
#include "policy/text.hpp"

namespace aj::policy {
namespace {

// Highest syscall number probed when listing names; x86_64 is below 512 today.
constexpr int kMaxProbedSyscall = 1024;

void expand_into(std::string_view entry, std::set<int>& out, int depth) {
    if (!entry.empty() && entry.front() == '@') {
        const SyscallGroup* group = find_syscall_group(entry);
        // The table nests at most one level; the depth guard keeps a bad edit finite.
        if (!group || depth > 4) return;
        for (auto member : group->members) expand_into(member, out, depth + 1);
        return;
    }
    int nr = resolve_syscall(entry);
    if (nr >= 0) out.insert(nr);
}

}  // namespace

int resolve_syscall(std::string_view name) {
    if (name.empty() || name.size() > 64 || name.find('\0') != std::string_view::npos)
        return -1;
    const std::string n(name);
    int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, n.c_str());
    // Negative numbers other than __NR_SCMP_ERROR are libseccomp's pseudo numbers for
    // calls that exist on other architectures only: not callable here.
    return nr >= 0 ? nr : -1;
}

AbiCall describe_call(std::uint32_t audit_arch, int nr) {
    constexpr int kX32Bit = 0x40000000;  // __X32_SYSCALL_BIT
    AbiCall call;
    std::uint32_t scmp_arch = 0;
    if (audit_arch == AUDIT_ARCH_I386) {
        call = {"i386", "", nr};
        scmp_arch = SCMP_ARCH_X86;
    } else if (audit_arch == AUDIT_ARCH_X86_64 && (nr & kX32Bit)) {
        call = {"x32", "", nr & ~kX32Bit};
        scmp_arch = SCMP_ARCH_X32;
    } else if (audit_arch == AUDIT_ARCH_X86_64) {
        call = {"x86_64", "", nr};
        scmp_arch = SCMP_ARCH_X86_64;
    } else {
        char hex[16];
        std::snprintf(hex, sizeof hex, "%#x", audit_arch);
        call = {std::string("audit arch ") + hex, "", nr};
    }
    std::unique_ptr<char, decltype(&std::free)> name(
        scmp_arch ? seccomp_syscall_resolve_num_arch(scmp_arch, nr) : nullptr, &std::free);
    call.name = name ? std::string(name.get()) : "syscall " + std::to_string(call.nr);
    return call;
}

const std::vector<std::string>& native_syscall_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (int nr = 0; nr < kMaxProbedSyscall; ++nr) {
            std::unique_ptr<char, decltype(&std::free)> name(
                seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr), &std::free);
            if (name) out.emplace_back(name.get());
        }
        return out;
    }();
    return names;
}

std::string check_syscall_entry(std::string_view entry) {
    if (!entry.empty() && entry.front() == '@') {
        if (find_syscall_group(entry)) return {};
        std::string known;
        for (const auto& g : syscall_group_names()) known += (known.empty() ? "" : " ") + g;
        return "unknown system call group " + quote(entry) + " (known groups: " + known + ")";
    }
    if (resolve_syscall(entry) >= 0) return {};
    std::string msg = "unknown system call " + quote(entry);
    if (entry.size() <= 64 && entry.find('\0') == std::string_view::npos) {
        const std::string n(entry);
        if (seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, n.c_str()) != __NR_SCMP_ERROR)
            return msg + " on this architecture (it exists on others only)";
    }
    std::string guess = nearest(entry, native_syscall_names());
    if (!guess.empty()) msg += " (did you mean " + guess + "?)";
    return msg;
}

std::set<int> expand_syscalls(const std::vector<std::string>& entries) {
    std::set<int> out;
    for (const auto& e : entries) expand_into(e, out, 0);
    return out;
}

}  // namespace aj::policy
