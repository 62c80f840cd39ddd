// The seccomp program a run loads: the built-in one exactly when it is what libseccomp
// would compile now, a fresh compile otherwise; never a different program.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <string>

#include "helper/seccomp_precompiled.hpp"
#include "helper/seccomp_program.hpp"
#include "policy/default_policy.hpp"
#include "policy/parse.hpp"
#include "tests/support/process.hpp"

namespace aj::helper {
namespace {

using policy::Policy;
using policy::SeccompProgram;
constexpr auto kSupervised = policy::DenialDelivery::Supervisor;

bool same_instructions(const SeccompProgram& a, const SeccompProgram& b) {
    return a.instructions.size() == b.instructions.size() &&
           std::memcmp(a.instructions.data(), b.instructions.data(), a.instructions.size() * sizeof(sock_filter)) == 0;
}

// The build id of the libseccomp file this process mapped, as readelf reads it from disk.
std::string libseccomp_build_id_on_disk() {
    std::ifstream maps("/proc/self/maps");
    std::string line, path;
    while (std::getline(maps, line)) {
        std::size_t at = line.find('/');
        if (at != std::string::npos && line.find("libseccomp.so", at) != std::string::npos) {
            path = line.substr(at);
            break;
        }
    }
    if (path.empty()) return "(libseccomp not mapped)";
    const aj::test::ProcessResult r = aj::test::run_process({"/usr/bin/readelf", "-n", path});
    const std::size_t at = r.out.find("Build ID: ");
    if (r.exit_code != 0 || at == std::string::npos) return "(no build id in readelf -n " + path + ": " + r.err + ")";
    const std::size_t start = at + 10;
    return r.out.substr(start, r.out.find_first_of(" \n", start) - start);
}

TEST(SeccompProgram, CompilerIdIsTheLoadedLibseccompFile) {
    EXPECT_EQ(policy::seccomp_compiler_build_id(), libseccomp_build_id_on_disk());
}

TEST(SeccompProgram, DefaultRulesGetTheBuiltInProgramWhichIsWhatLibseccompCompilesNow) {
    ASSERT_STREQ(precompiled::kDefaultProgramCompilerId, policy::seccomp_compiler_build_id().c_str())
        << "this test binary runs with another libseccomp build than the one the build used";
    const Policy p = policy::default_policy();
    const SeccompProgram chosen = seccomp_program_for(p, kSupervised);
    EXPECT_TRUE(chosen.precompiled);
    const SeccompProgram fresh = policy::compile_seccomp(p, kSupervised);
    EXPECT_FALSE(fresh.precompiled);
    EXPECT_TRUE(same_instructions(chosen, fresh));
    EXPECT_GT(chosen.instructions.size(), 50u);
}

// The built-in program is namespaces mode's (supervised); rlimit-only mode's kernel-
// answered one is compiled, and differs only in the answers.
TEST(SeccompProgram, KernelAnsweredDefaultIsCompiledAndHasNoListener) {
    const Policy p = policy::default_policy();
    const SeccompProgram kernel = seccomp_program_for(p, policy::DenialDelivery::Kernel);
    EXPECT_FALSE(kernel.precompiled);
    EXPECT_FALSE(policy::needs_listener(kernel));
    EXPECT_TRUE(policy::needs_listener(seccomp_program_for(p, kSupervised)));
}

TEST(SeccompProgram, SettingsOutsideTheSyscallRulesKeepTheBuiltInProgram) {
    // The benchmark's bwrap-equivalent policy: other paths, no resource limits.
    const Policy p = policy::parse_policy(
        R"({"allowed_paths": ["/usr", "/etc"], "max_memory_mb": null, "max_cpu_sec": null, "max_pids": null,
            "network": "host", "hostname": "elsewhere"})",
        "test policy");
    const SeccompProgram chosen = seccomp_program_for(p, kSupervised);
    EXPECT_TRUE(chosen.precompiled);
    EXPECT_TRUE(same_instructions(chosen, policy::compile_seccomp(p, kSupervised)));
}

TEST(SeccompProgram, AnyChangeToTheSyscallRulesCompilesAfresh) {
    for (const char* json : {
             R"({"blocked_syscalls": ["chmod"]})",
             R"({"default_deny": false})",
             R"({"blocked_action": "kill"})",
             R"({"blocked_action": {"action": "errno", "errno": "EACCES"}})",
             R"({"allowed_syscalls": ["execve", "read", "write", "exit_group"]})",
         }) {
        SCOPED_TRACE(json);
        Policy p;
        try {
            p = policy::parse_policy(json, "test policy");
        } catch (const std::exception& e) {
            FAIL() << "test policy refused: " << e.what();
        }
        const SeccompProgram chosen = seccomp_program_for(p, kSupervised);
        EXPECT_FALSE(chosen.precompiled);
        EXPECT_TRUE(same_instructions(chosen, policy::compile_seccomp(p, kSupervised)));
        EXPECT_FALSE(same_instructions(chosen, policy::compile_seccomp(policy::default_policy(), kSupervised)));
    }
}

}  // namespace
}  // namespace aj::helper

namespace aj::helper {
namespace {

// The ENOSYS prefix's bounds baked in at build time stand in for the scan only because
// they are what the scan finds with the same libseccomp build.
TEST(SeccompProgram, BakedKnownSyscallNumbersAreWhatTheScanFinds) {
    if (policy::seccomp_compiler_build_id() != precompiled::kDefaultProgramCompilerId)
        GTEST_SKIP() << "another libseccomp build is loaded than the one the build used: the scan is used";
    const policy::KnownSyscallNumbers scanned = policy::scan_known_syscall_numbers();
    const policy::KnownSyscallNumbers& baked = precompiled::kKnownSyscallNumbers;
    EXPECT_EQ(baked.x86_64_max, scanned.x86_64_max);
    EXPECT_EQ(baked.i386_max, scanned.i386_max);
    EXPECT_EQ(baked.x32_common_max, scanned.x32_common_max);
    EXPECT_EQ(baked.x32_max, scanned.x32_max);
    policy::use_known_syscall_numbers(baked, precompiled::kDefaultProgramCompilerId);
    EXPECT_EQ(policy::known_syscall_numbers().x86_64_max, scanned.x86_64_max);
}

}  // namespace
}  // namespace aj::helper
