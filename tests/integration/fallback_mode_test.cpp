// rlimit-only mode for real: aurora-jail runs under a seccomp filter that refuses
// namespace creation (as container runtimes do), falls back with a warning, and still
// enforces Landlock path rules, the policy's seccomp filter, a cleared environment and
// uid 65534 for root; --require-isolation and allow_fallback: false refuse to run.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "helper/landlock.hpp"
#include "tests/integration/fallback_no_userns.hpp"
#include "tests/support/process.hpp"

namespace {

const char* kBasePaths = R"("/usr", "/bin", "/lib", "/lib64")";

aj::test::ProcessResult run_without_namespaces(const std::vector<std::string>& args,
                                               const std::vector<std::string>& env = {}) {
    std::vector<std::string> argv = {aj::test::aj_bin()};
    argv.insert(argv.end(), args.begin(), args.end());
    return aj::test::run_process(aj::test::without_namespaces(argv), "", env, 60);
}

bool exists(const std::string& p) {
    struct stat st;
    return ::stat(p.c_str(), &st) == 0;
}

}  // namespace

TEST(Fallback, RunsWithWarningAndReportsRlimitOnly) {
    aj::test::TempDir dir;
    std::string report = dir.path() + "/report.json";
    auto r = run_without_namespaces({"run", "--report", report, "--", "echo", "hello"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "hello\n");
    EXPECT_NE(r.err.find("aurora-jail: warning: rlimit-only mode"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("NOT enforced"), std::string::npos) << r.err;
    std::ifstream in(report);
    auto j = nlohmann::json::parse(in);
    EXPECT_EQ(j["mode"], "rlimit-only");
    EXPECT_EQ(j["enforced"]["no_new_privs"], true);
    EXPECT_FALSE(j["enforced"]["not_enforced"].empty());
}

TEST(Fallback, LandlockDeniesWhatThePolicyDoesNotName) {
    if (aj::helper::probe_landlock().abi == 0) GTEST_SKIP() << "no Landlock on this kernel";
    aj::test::TempDir named, unnamed;
    std::string secret = unnamed.write("secret", "top secret\n");
    std::string visible = named.write("visible", "fine\n");
    std::string policy = named.write("policy.json", std::string(R"({"allowed_paths": [)") + kBasePaths +
                                                        R"(, {"path": ")" + named.path() + R"(", "mode": "rw"}]})");
    auto r = run_without_namespaces({"run", "--policy", policy, "--", "cat", secret});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_EQ(r.out.find("top secret"), std::string::npos);
    EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << r.err;
    r = run_without_namespaces({"run", "--policy", policy, "--", "cat", "/etc/passwd"});
    EXPECT_NE(r.exit_code, 0) << r.out;
    r = run_without_namespaces({"run", "--policy", policy, "--", "cat", visible});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "fine\n");
    ::chmod(named.path().c_str(), 0777);  // a root caller's command runs as uid 65534
    r = run_without_namespaces({"run", "--policy", policy, "--", "touch", named.path() + "/written"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(exists(named.path() + "/written"));
}

TEST(Fallback, SeccompStillBlocks) {
    aj::test::TempDir dir;
    std::string policy = dir.write("policy.json", std::string(R"({"allowed_paths": [)") + kBasePaths + R"(, {"path": ")" +
                                                      dir.path() + R"(", "mode": "rw"}], "blocked_syscalls": ["mkdir", "mkdirat"]})");
    auto r = run_without_namespaces({"run", "--policy", policy, "--", "mkdir", dir.path() + "/sub"});
    EXPECT_NE(r.exit_code, 0);
    // EPERM from the filter (Landlock would say EACCES, "Permission denied").
    EXPECT_NE(r.err.find("Operation not permitted"), std::string::npos) << r.err;
    EXPECT_FALSE(exists(dir.path() + "/sub"));
}

TEST(Fallback, RequireIsolationRefusesBeforeRunning) {
    aj::test::TempDir dir;
    std::string marker = dir.path() + "/ran";
    std::string policy = dir.write("policy.json", std::string(R"({"allowed_paths": [)") + kBasePaths + R"(, {"path": ")" +
                                                      dir.path() + R"(", "mode": "rw"}]})");
    auto r = run_without_namespaces({"run", "--require-isolation", "--policy", policy, "--", "touch", marker});
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_NE(r.err.find("aurora-jail: refusing to run without namespaces (--require-isolation)"), std::string::npos) << r.err;
    EXPECT_FALSE(exists(marker));
}

TEST(Fallback, PolicyForbiddingFallbackRefuses) {
    aj::test::TempDir dir;
    std::string marker = dir.path() + "/ran";
    std::string policy = dir.write("policy.json", std::string(R"({"allow_fallback": false, "allowed_paths": [)") + kBasePaths +
                                                      R"(, {"path": ")" + dir.path() + R"(", "mode": "rw"}]})");
    auto r = run_without_namespaces({"run", "--policy", policy, "--", "touch", marker});
    EXPECT_EQ(r.exit_code, 125) << r.err;
    EXPECT_NE(r.err.find("allow_fallback: false"), std::string::npos) << r.err;
    EXPECT_FALSE(exists(marker));
}

TEST(Fallback, EnvironmentClearedAndRootBecomesNobody) {
    auto r = run_without_namespaces({"run", "--", "sh", "-c", "echo uid=$(id -u) secret=${AJ_SECRET:-unset}"},
                                    {"AJ_SECRET=leaked"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("secret=unset"), std::string::npos) << r.out;
    if (aj::test::running_as_root()) {
        EXPECT_NE(r.out.find("uid=65534"), std::string::npos) << r.out;
    }
}

TEST(Fallback, InheritedFdsAreClosed) {
    // fd 5 is open in aurora-jail (the wrapper inherits it from a shell redirection);
    // the command must not see it.
    auto r = aj::test::run_process(
        {"/bin/sh", "-c", "exec 5</dev/null; exec \"$@\"", "sh", aj::test::self_exe(), aj::test::kWrapperFlag,
         aj::test::aj_bin(), "run", "--", "sh", "-c", "if [ -e /dev/fd/5 ] || { true <&5; } 2>/dev/null; then echo open; else echo closed; fi"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("closed"), std::string::npos) << r.out;
}

// Inside a user namespace that denies setgroups and maps only uid 0 (`unshare -r`, as some
// container runtimes start their payload), with user namespaces exhausted there (its own
// user.max_user_namespaces set to 0, a limit only that namespace sees): no switch to 65534
// can succeed, so the run falls back keeping the identity it has, without a capability,
// and says so in the report.
TEST(Fallback, SetgroupsDeniedRunsWithTheIdentityItHas) {
    const std::string unshare = "/usr/bin/unshare";
    const std::string exhaust = "echo 0 > /proc/sys/user/max_user_namespaces && exec \"$@\"";
    if (!exists(unshare) || aj::test::run_process({unshare, "-r", "/bin/sh", "-c", exhaust, "sh", "/bin/true"}).exit_code != 0)
        GTEST_SKIP() << "unshare -r (a user namespace of our own with its sysctl) is not available here";
    aj::test::TempDir dir;
    // Owned by the caller, which is uid 0 inside: readable only with CAP_DAC_OVERRIDE.
    const std::string secret = dir.write("secret", "s3cret\n", 0);
    const std::string report = dir.path() + "/report.json";
    auto r = aj::test::run_process(
        {unshare, "-r", "/bin/sh", "-c", exhaust, "sh", aj::test::aj_bin(), "run", "--workdir", dir.path(), "--report",
         report, "--", "sh", "-c", "id -u; cat secret >/dev/null 2>&1 && echo readable || echo unreadable"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "0\nunreadable\n");
    EXPECT_NE(r.err.find("rlimit-only mode"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("keeps uid 0"), std::string::npos) << r.err;
    std::ifstream in(report);
    auto j = nlohmann::json::parse(in);
    EXPECT_EQ(j["mode"], "rlimit-only");
    EXPECT_NE(j["enforced"]["identity"].get<std::string>().find("uid 0"), std::string::npos) << j["enforced"];
    EXPECT_EQ(j["enforced"]["capabilities"], "all dropped (bounding set emptied, uid 0 kept)");
}
