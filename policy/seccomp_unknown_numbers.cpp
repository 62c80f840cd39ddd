#include "policy/seccomp_unknown_numbers.hpp"

#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "policy/error.hpp"
#include "policy/seccomp_compile.hpp"

namespace aj::policy {
namespace {

constexpr std::uint32_t kX32Bit = 0x40000000;        // __X32_SYSCALL_BIT
constexpr std::uint32_t kX32CompatFirst = kX32Bit | 512;  // x32's own calls start here
// No ABI comes near this yet; the scan's ceiling.
constexpr std::uint32_t kScanCeiling = 2048;

bool known(std::uint32_t arch, std::uint32_t nr) {
    std::unique_ptr<char, decltype(&std::free)> name(
        seccomp_syscall_resolve_num_arch(arch, static_cast<int>(nr)), &std::free);
    return name != nullptr;
}

// The highest number in [base, base + ceiling) libseccomp resolves on `arch`.
std::uint32_t newest(std::uint32_t arch, std::uint32_t base, std::uint32_t ceiling) {
    for (std::uint32_t n = ceiling; n-- > 0;)
        if (known(arch, base + n)) return base + n;
    throw Error("compiling seccomp filter: libseccomp knows no system call of architecture " +
                std::to_string(arch));
}

// A forward jump target in the prefix, resolved once every instruction is placed.
enum Label : std::uint8_t { kNext, kX86_64, kI386, kEnosys, kForeign, kPass };

struct Insn {
    std::uint16_t code;
    std::uint32_t k;
    Label jt = kNext;
    Label jf = kNext;
};

}  // namespace

KnownSyscallNumbers scan_known_syscall_numbers() {
    return {
        newest(SCMP_ARCH_X86_64, 0, kScanCeiling),
        newest(SCMP_ARCH_X86, 0, kScanCeiling),
        newest(SCMP_ARCH_X32, kX32Bit, kX32CompatFirst - kX32Bit),
        newest(SCMP_ARCH_X32, kX32Bit, kScanCeiling),
    };
}

namespace {

struct GivenNumbers {
    KnownSyscallNumbers numbers{};
    std::string compiler_build_id;  // "" = nothing given
};

GivenNumbers& given_numbers() {
    static GivenNumbers given;
    return given;
}

}  // namespace

void use_known_syscall_numbers(const KnownSyscallNumbers& numbers, std::string_view compiler_build_id) {
    given_numbers() = GivenNumbers{numbers, std::string(compiler_build_id)};
}

const KnownSyscallNumbers& known_syscall_numbers() {
    static const KnownSyscallNumbers numbers = [] {
        const GivenNumbers& given = given_numbers();
        if (!given.compiler_build_id.empty() && given.compiler_build_id == seccomp_compiler_build_id())
            return given.numbers;
        return scan_known_syscall_numbers();
    }();
    return numbers;
}

std::vector<sock_filter> unknown_number_prefix(ForeignAbi foreign) {
    const KnownSyscallNumbers& n = known_syscall_numbers();
    constexpr std::uint32_t kArch = offsetof(seccomp_data, arch);
    constexpr std::uint32_t kNr = offsetof(seccomp_data, nr);
    constexpr std::uint16_t kLoad = BPF_LD | BPF_W | BPF_ABS;
    constexpr std::uint16_t kJeq = BPF_JMP | BPF_JEQ | BPF_K;
    constexpr std::uint16_t kJgt = BPF_JMP | BPF_JGT | BPF_K;
    constexpr std::uint16_t kJge = BPF_JMP | BPF_JGE | BPF_K;
    // Each ABI's unknown numbers go to kEnosys; everything else, foreign architectures
    // included, to kPass: libseccomp's program, which still decides (and kills) them.
    // Known i386 and x32 numbers: libseccomp's kill, or the supervisor (kForeign).
    const Label known_foreign = foreign == ForeignAbi::Notify ? kForeign : kPass;
    std::vector<std::pair<Label, Insn>> code = {
        {kNext, {kLoad, kArch}},
        {kNext, {kJeq, AUDIT_ARCH_X86_64, kX86_64, kNext}},
        {kNext, {kJeq, AUDIT_ARCH_I386, kI386, kPass}},
        {kX86_64, {kLoad, kNr}},
        {kNext, {kJgt, n.x86_64_max, kNext, kPass}},
        {kNext, {kJge, kX32Bit, kNext, kEnosys}},           // native, above the newest
        {kNext, {kJgt, n.x32_max, kEnosys, kNext}},         // x32, above its compat calls
        {kNext, {kJgt, n.x32_common_max, kNext, known_foreign}},
        {kNext, {kJge, kX32CompatFirst, known_foreign, kEnosys}},  // x32, newer than the compiler
        {kI386, {kLoad, kNr}},
        {kNext, {kJgt, n.i386_max, kEnosys, known_foreign}},
        {kEnosys, {BPF_RET | BPF_K, SECCOMP_RET_ERRNO | static_cast<std::uint32_t>(ENOSYS)}},
    };
    if (foreign == ForeignAbi::Notify) code.push_back({kForeign, {BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF}});
    const std::size_t pass_at = code.size();
    auto where = [&](Label l, std::size_t from) -> std::uint8_t {
        if (l == kNext) return 0;
        std::size_t at = pass_at;
        for (std::size_t i = 0; i < code.size(); ++i)
            if (code[i].first == l) at = i;
        return static_cast<std::uint8_t>(at - from - 1);
    };
    std::vector<sock_filter> out;
    for (std::size_t i = 0; i < code.size(); ++i) {
        const Insn& insn = code[i].second;
        out.push_back(sock_filter{insn.code, where(insn.jt, i), where(insn.jf, i), insn.k});
    }
    return out;
}

std::string unknown_number_prefix_text(ForeignAbi foreign) {
    const KnownSyscallNumbers& n = known_syscall_numbers();
    auto hex = [](std::uint32_t v) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%#x", v);
        return std::string(buf);
    };
    return "# before the filter below (numbers newer than this libseccomp):\n"
           "#   x86_64: $syscall > " + std::to_string(n.x86_64_max) + " and < " + hex(kX32Bit) + ": action ERRNO(38);\n" +
           "#   x32: $syscall in (" + hex(n.x32_common_max) + ", " + hex(kX32CompatFirst) + ") or > " +
           hex(n.x32_max) + ": action ERRNO(38);\n" +
           "#   i386: $syscall > " + std::to_string(n.i386_max) + ": action ERRNO(38);\n" +
           (foreign == ForeignAbi::Notify ? "#   every other i386 and x32 call: action NOTIFY;\n" : "");
}

}  // namespace aj::policy
