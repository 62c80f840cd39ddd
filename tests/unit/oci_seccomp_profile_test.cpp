// linux.seccomp -> a seccomp program (oci/seccomp_profile.hpp): each program is loaded in a
// child on the real kernel and the call's answer checked; what cannot be enforced is
// refused by name.
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <functional>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "helper/seccomp_load.hpp"
#include "oci/config.hpp"
#include "oci/seccomp_profile.hpp"
#include "policy/error.hpp"
#include "tests/support/process.hpp"

namespace aj::oci {
namespace {

using nlohmann::json;

// Loads `program` in a child (after no_new_privs) and returns what `call` returned
// there: errno when it failed, 0 when it passed, 1000 + signal when the child was killed,
// -1 when loading failed.
int answer_under(const policy::SeccompProgram& program, const std::function<int()>& call) {
    const pid_t child = ::fork();
    if (child == 0) {
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ::_exit(255);
        try {
            (void)helper::load_seccomp(program);
        } catch (...) {
            ::_exit(255);
        }
        const int answer = call() == 0 ? 0 : errno;
        // The raw exit_group, not _exit: under ASan, _exit first runs LeakSanitizer's
        // check, whose calls (clone, ptrace) a program with a refusing default denies, and
        // the child would then end with LeakSanitizer's exit code instead of the answer.
        ::syscall(SYS_exit_group, answer);
        ::_exit(answer);  // not reached
    }
    int status = 0;
    if (::waitpid(child, &status, 0) != child) return -2;
    if (WIFSIGNALED(status)) return 1000 + WTERMSIG(status);
    return WEXITSTATUS(status) == 255 ? -1 : WEXITSTATUS(status);
}

// A call that allocates nothing: the filter may refuse mmap and brk.
std::function<int()> mkdir_at(const std::string& path, mode_t mode = 0700) {
    return [path, mode] {
        const int rc = ::mkdir(path.c_str(), mode);
        if (rc == 0) ::rmdir(path.c_str());
        return rc;
    };
}

json errno_rule(const json& names, int err) {
    return json{{"names", names}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", err}};
}

std::string refusal(const json& profile) {
    try {
        (void)compile_seccomp_profile(profile);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

TEST(OciSeccompProfile, AnErrnoRuleIsAnsweredWithItsErrnoAndEpermByDefault) {
    test::TempDir dir;
    const json profile{{"defaultAction", "SCMP_ACT_ALLOW"},
                       {"syscalls", {errno_rule({"mkdir", "mkdirat", "not_a_call_anywhere"}, EXDEV)}}};
    const policy::SeccompProgram program = compile_seccomp_profile(profile);
    EXPECT_EQ(answer_under(program, mkdir_at(dir.path() + "/d")), EXDEV);
    EXPECT_EQ(answer_under(program, [] { return ::access("/", F_OK); }), 0);
    json no_errno = profile;
    no_errno["syscalls"][0].erase("errnoRet");
    EXPECT_EQ(answer_under(compile_seccomp_profile(no_errno), mkdir_at(dir.path() + "/d")), EPERM);
    // Deterministic: exec compiles the recorded profile again.
    EXPECT_EQ(compile_seccomp_profile(profile).instructions.size(), program.instructions.size());
    EXPECT_EQ(0, std::memcmp(compile_seccomp_profile(profile).instructions.data(), program.instructions.data(),
                             program.instructions.size() * sizeof(sock_filter)));
}

TEST(OciSeccompProfile, TheDefaultActionAndItsErrnoApplyToUnlistedCalls) {
    test::TempDir dir;
    const json profile{{"defaultAction", "SCMP_ACT_ERRNO"},
                       {"defaultErrnoRet", ENOSYS},
                       {"syscalls",
                        {{{"names", {"exit_group", "exit", "access", "faccessat", "faccessat2"}},
                          {"action", "SCMP_ACT_ALLOW"}},
                         // The default's own verdict again: skipped (libseccomp refuses such a rule).
                         errno_rule({"getpid"}, ENOSYS)}}};
    const policy::SeccompProgram program = compile_seccomp_profile(profile);
    EXPECT_EQ(answer_under(program, mkdir_at(dir.path() + "/d")), ENOSYS);
    EXPECT_EQ(answer_under(program, [] { return ::access("/", F_OK); }), 0);
    const json kill{{"defaultAction", "SCMP_ACT_ALLOW"},
                    {"syscalls", {{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_KILL_PROCESS"}}}}};
    EXPECT_EQ(answer_under(compile_seccomp_profile(kill), mkdir_at(dir.path() + "/d")), 1000 + SIGSYS);
}

// mkdirat(dirfd, path, mode): refused for mode 0700 only, then for 0700 and 0711 (two
// comparisons of one argument: either matches) and for the mask 0070 equal to 0.
TEST(OciSeccompProfile, ArgumentRulesCompareAsTheSpecSays) {
    test::TempDir dir;
    auto with_args = [](const json& args) {
        json rule = errno_rule({"mkdir", "mkdirat"}, EXDEV);
        rule["args"] = args;
        return json{{"defaultAction", "SCMP_ACT_ALLOW"}, {"syscalls", {rule}}};
    };
    auto mkdir_mode = [&](mode_t mode) { return mkdir_at(dir.path() + "/m" + std::to_string(mode), mode); };
    const policy::SeccompProgram eq =
        compile_seccomp_profile(with_args({{{"index", 1}, {"value", 0700}, {"op", "SCMP_CMP_EQ"}}}));
    EXPECT_EQ(answer_under(eq, mkdir_mode(0700)), EXDEV);
    EXPECT_EQ(answer_under(eq, mkdir_mode(0755)), 0);
    const policy::SeccompProgram either = compile_seccomp_profile(with_args(
        {{{"index", 1}, {"value", 0700}, {"op", "SCMP_CMP_EQ"}}, {{"index", 1}, {"value", 0711}, {"op", "SCMP_CMP_EQ"}}}));
    EXPECT_EQ(answer_under(either, mkdir_mode(0700)), EXDEV);
    EXPECT_EQ(answer_under(either, mkdir_mode(0711)), EXDEV);
    EXPECT_EQ(answer_under(either, mkdir_mode(0755)), 0);
    const policy::SeccompProgram masked =
        compile_seccomp_profile(with_args({{{"index", 1}, {"value", 0070}, {"valueTwo", 0}, {"op", "SCMP_CMP_MASKED_EQ"}}}));
    EXPECT_EQ(answer_under(masked, mkdir_mode(0700)), EXDEV);
    EXPECT_EQ(answer_under(masked, mkdir_mode(0750)), 0);
}

TEST(OciSeccompProfile, FlagsAndArchitecturesMapToTheKernelsAndLibseccomps) {
    const json profile{{"defaultAction", "SCMP_ACT_ALLOW"},
                       {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
                       {"flags", {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC"}},
                       {"syscalls", {errno_rule({"mkdir"}, EXDEV)}}};
    const policy::SeccompProgram program = compile_seccomp_profile(profile);
    EXPECT_EQ(program.flags, unsigned{SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW});
    EXPECT_EQ(answer_under(program, [] { return ::access("/", F_OK); }), 0) << "the kernel refused the flags";
    const std::vector<std::string> archs = seccomp_profile_archs();
    EXPECT_NE(std::find(archs.begin(), archs.end(), "SCMP_ARCH_AARCH64"), archs.end());
}

TEST(OciSeccompProfile, WhatCannotBeEnforcedIsRefusedByName) {
    const json allow{{"defaultAction", "SCMP_ACT_ALLOW"}};
    auto with = [&](const char* key, const json& value) {
        json p = allow;
        p[key] = value;
        return p;
    };
    EXPECT_NE(refusal(with("syscalls", {{{"names", {"mkdir"}}, {"action", "SCMP_ACT_NOTIFY"}}}))
                  .find("linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY is not supported"),
              std::string::npos);
    EXPECT_NE(refusal(json{{"defaultAction", "SCMP_ACT_NOTIFY"}}).find("linux.seccomp.defaultAction: SCMP_ACT_NOTIFY"),
              std::string::npos);
    EXPECT_NE(refusal(with("listenerPath", "/run/agent")).find("linux.seccomp.listenerPath: not supported"),
              std::string::npos);
    EXPECT_NE(refusal(with("syscalls", {{{"names", {"mkdir"}}, {"action", "SCMP_ACT_ERRNO"},
                                         {"args", {{{"index", 6}, {"op", "SCMP_CMP_EQ"}}}}}}))
                  .find("args[0].index: 6 is not an argument"),
              std::string::npos);
    EXPECT_NE(refusal(with("syscalls", {{{"names", {"mkdir"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 70000}}}))
                  .find("syscalls[0].errnoRet: 70000"),
              std::string::npos);
    EXPECT_NE(refusal(with("syscalls", {{{"names", {"mkdir"}}, {"action", "SCMP_ACT_ALLOW"}, {"errnoRet", 1}}}))
                  .find("syscalls[0].errnoRet: given, but SCMP_ACT_ALLOW returns no errno"),
              std::string::npos);
    EXPECT_NE(refusal(with("defaultErrnoRet", 1)).find("linux.seccomp.defaultErrnoRet: given, but SCMP_ACT_ALLOW"),
              std::string::npos);
    EXPECT_NE(refusal(with("flags", {"SECCOMP_FILTER_FLAG_MAGIC"})).find("flags[0]: SECCOMP_FILTER_FLAG_MAGIC"),
              std::string::npos);
    EXPECT_NE(refusal(with("includes", json::object())).find("linux.seccomp.includes"), std::string::npos);
    EXPECT_NE(refusal(json::object()).find("linux.seccomp.defaultAction: is required"), std::string::npos);
    EXPECT_EQ(refusal(with("listenerPath", "")), "");
}

// The profile is loaded after the policy's filter: a policy refusing seccomp(2) cannot
// take it, and create says so rather than failing inside the container.
TEST(OciSeccompProfile, APolicyRefusingSeccompCannotTakeAProfile) {
    policy::Policy p = oci_default_policy();
    EXPECT_NO_THROW(check_policy_admits_profile(p));
    p.blocked_syscalls.push_back("seccomp");
    try {
        check_policy_admits_profile(p);
        ADD_FAILURE() << "a policy refusing seccomp(2) was admitted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("config.json: linux.seccomp: the container's aurora-jail policy refuses "
                                             "seccomp(2)"),
                  std::string::npos)
            << e.what();
    }
    p.blocked_syscalls.pop_back();
    p.allowed_syscalls = std::vector<std::string>{"read", "write", "execve"};
    EXPECT_THROW(check_policy_admits_profile(p), Error);
}

}  // namespace
}  // namespace aj::oci
