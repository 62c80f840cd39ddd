// What the sandboxed process holds: no capabilities, no_new_privs, the policy's seccomp
// filter on every ABI, no terminal to inject into, no inherited fds, no caller environment.
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/support/jail.hpp"

namespace aj::test {
namespace {

std::string status_field(const std::string& status, const std::string& name) {
    auto pos = status.find("\n" + name + ":");
    if (pos == std::string::npos) return "<missing>";
    auto start = status.find_first_not_of(" \t", pos + name.size() + 2);
    return status.substr(start, status.find('\n', start) - start);
}

TEST(RunHardening, NoCapabilitiesNoNewPrivsSeccomp) {
    TempDir dir;
    auto policy = write_policy(dir);
    auto r = run_aj(sh_args(policy, "cat /proc/self/status"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (const char* cap : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"})
        EXPECT_EQ(status_field(r.out, cap), "0000000000000000") << cap;
    EXPECT_EQ(status_field(r.out, "NoNewPrivs"), "1");
    EXPECT_EQ(status_field(r.out, "Seccomp"), "2");
}

// Signals the caller ignores are not ignored by the command: it starts with every
// disposition at its default (helper/signal_reset.hpp; execve keeps ignored ones).
TEST(RunHardening, SignalsTheCallerIgnoresAreDefaultInside) {
    TempDir dir;
    auto policy = write_policy(dir);
    struct sigaction ignore {}, old_int {}, old_term {}, old_usr1 {};
    ignore.sa_handler = SIG_IGN;
    ASSERT_EQ(::sigaction(SIGINT, &ignore, &old_int), 0);
    ASSERT_EQ(::sigaction(SIGTERM, &ignore, &old_term), 0);
    ASSERT_EQ(::sigaction(SIGUSR1, &ignore, &old_usr1), 0);
    auto r = run_aj(sh_args(policy, "cat /proc/self/status"));
    ::sigaction(SIGINT, &old_int, nullptr);
    ::sigaction(SIGTERM, &old_term, nullptr);
    ::sigaction(SIGUSR1, &old_usr1, nullptr);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(status_field(r.out, "SigIgn"), "0000000000000000");
}

TEST(RunHardening, BlockedSyscallGetsConfiguredErrno) {
    TempDir dir;
    auto policy = write_policy(dir, {{"blocked_syscalls", {"getppid"}},
                                     {"blocked_action", {{"action", "errno"}, {"errno", "EACCES"}}}});
    auto r = run_aj(probe_args(policy, "getppid"));
    EXPECT_EQ(r.out, "EACCES\n") << r.err;
    // Control: unblocked, the same probe succeeds (its parent is the sandbox's PID 1).
    auto open_policy = write_policy(dir, nlohmann::json::object(), "open.json");
    auto o = run_aj(probe_args(open_policy, "getppid"));
    EXPECT_EQ(o.out, "ok 1\n") << o.err;
}

TEST(RunHardening, KillActionKillsWithSigsys) {
    TempDir dir;
    auto policy = write_policy(dir, {{"blocked_syscalls", {"getppid"}}, {"blocked_action", "kill"}});
    auto r = run_aj(probe_args(policy, "getppid"));
    EXPECT_EQ(r.exit_code, 128 + SIGSYS) << r.out << r.err;
    EXPECT_EQ(r.out, "");
}

TEST(RunHardening, Int80CannotReachBlockedCall) {
    TempDir dir;
    auto policy = write_policy(dir, {{"blocked_syscalls", {"getppid"}},
                                     {"blocked_action", {{"action", "errno"}, {"errno", "EACCES"}}}});
    auto r = run_aj(probe_args(policy, "int80-getppid"));
    // Killed (SIGSYS, or SIGSEGV on a kernel without IA-32 emulation) or refused: never "ok".
    if (r.exit_code == 0) {
        EXPECT_TRUE(r.out == "EACCES\n" || r.out == "EPERM\n" || r.out == "ENOSYS\n") << r.out;
    } else {
        // Under AddressSanitizer the probe's SIGSEGV is ASan's report and exit status 1.
        const bool asan_segv = r.exit_code == 1 && r.err.find("AddressSanitizer: SEGV") != std::string::npos;
        EXPECT_TRUE(r.exit_code == 128 + SIGSYS || r.exit_code == 128 + SIGSEGV || asan_segv) << r.exit_code << r.err;
    }
    EXPECT_EQ(r.out.find("ok"), std::string::npos) << r.out;
}

TEST(RunHardening, TiocstiIntoCallersTerminalFails) {
    int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) GTEST_SKIP() << "no pseudo-terminals here";
    ASSERT_EQ(::grantpt(master), 0);
    ASSERT_EQ(::unlockpt(master), 0);
    int slave = ::open(::ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
    ASSERT_GE(slave, 0);
    TempDir dir;
    auto policy = write_policy(dir);
    // aurora-jail runs with the pty as its controlling terminal, like a user's shell would.
    Spawned aj(probe_args(policy, "tiocsti"), slave, /*new_session=*/true);
    int code = aj.wait();
    EXPECT_EQ(code, 0) << aj.output();
    EXPECT_NE(aj.output().find("EPERM"), std::string::npos) << aj.output();
    ::close(slave);
    ::close(master);
}

TEST(RunHardening, InheritedFdIsClosedInside) {
    TempDir dir;
    std::string secret = dir.write("secret", "s3cret", 0600);
    int fd = ::open(secret.c_str(), O_RDONLY);  // deliberately not O_CLOEXEC
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::dup2(fd, 7), 7);
    ::close(fd);
    auto policy = write_policy(dir);
    auto r = run_aj(probe_args(policy, "fd", {"7"}));
    ::close(7);
    EXPECT_EQ(r.out, "EBADF\n") << r.err;
}

TEST(RunHardening, EnvironmentClearedExceptPolicy) {
    TempDir dir;
    auto policy = write_policy(dir, {{"environment", {{"pass", {"AJ_PASSED"}}, {"set", {{"AJ_SET", "fixed"}, {"PATH", "/usr/bin:/bin"}}}}}});
    auto r = run_process({aj_bin(), "run", "--policy", policy, "--", "/usr/bin/env"}, "",
                         {"AJ_SECRET=topsecret", "AJ_PASSED=passed", "AJ_SET=caller"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.find("topsecret"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("AJ_PASSED=passed\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("AJ_SET=fixed\n"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("HOME="), std::string::npos) << r.out;  // nothing else of the caller's
}

}  // namespace
}  // namespace aj::test
