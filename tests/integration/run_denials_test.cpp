// Denials that explain themselves, end to end: a call the policy refuses is answered by
// the runner's supervisor with the policy's errno, named on stderr with the rule that
// refused it, and counted in the report's "denials".
#include <signal.h>

#include <algorithm>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/jail.hpp"

namespace aj::test {
namespace {

const nlohmann::json kEacces = {{"action", "errno"}, {"errno", "EACCES"}};

// The --json report: the last line of stdout.
nlohmann::json report_of(const ProcessResult& r) {
    std::string out = r.out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    const std::size_t nl = out.rfind('\n');
    return nlohmann::json::parse(nl == std::string::npos ? out : out.substr(nl + 1));
}

// The probe's own line: the first of stdout.
std::string probe_line(const ProcessResult& r) { return r.out.substr(0, r.out.find('\n')); }

const nlohmann::json* find_denial(const nlohmann::json& report, const std::string& syscall, const std::string& arch) {
    for (const auto& d : report["denials"])
        if (d["syscall"] == syscall && d["arch"] == arch) return &d;
    return nullptr;
}

TEST(RunDenials, RefusedCallIsNamedOnStderrAndCountedInTheReport) {
    TempDir dir;
    auto policy = write_policy(dir, {{"blocked_syscalls", {"chmod", "getppid"}}, {"blocked_action", kEacces}});
    auto r = run_aj(probe_args(policy, "getppid", {}, {"--json"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(probe_line(r), "EACCES") << r.out;
    EXPECT_NE(r.err.find("aurora-jail: denied getppid (x86_64 nr 110) by blocked_syscalls[1] \"getppid\"\n"),
              std::string::npos)
        << r.err;
    const nlohmann::json report = report_of(r);
    ASSERT_EQ(report["denials"].size(), 1u) << report.dump();
    EXPECT_EQ(report["denials"][0],
              (nlohmann::json{{"syscall", "getppid"}, {"nr", 110}, {"arch", "x86_64"},
                              {"rule", "blocked_syscalls[1] \"getppid\""}, {"count", 1}}));
    EXPECT_EQ(report["enforced"]["seccomp"]["denials_reported"], true);
}

TEST(RunDenials, DefaultDenyNamesItsEntry) {
    TempDir dir;
    auto policy = write_policy(dir, {{"blocked_action", kEacces}});
    auto r = run_aj(sh_args(policy, "unshare -U true; exit 0", {"--json"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const nlohmann::json report = report_of(r);
    const nlohmann::json* d = find_denial(report, "unshare", "x86_64");
    ASSERT_NE(d, nullptr) << report.dump();
    EXPECT_EQ((*d)["rule"], "default_deny[8] \"@namespaces\"");
    EXPECT_NE(r.err.find("aurora-jail: denied unshare (x86_64 nr 272) by default_deny[8] \"@namespaces\""),
              std::string::npos)
        << r.err;
}

TEST(RunDenials, NothingRefusedMeansAnEmptyList) {
    TempDir dir;
    auto policy = write_policy(dir);
    auto r = run_aj(sh_args(policy, "true", {"--json"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(report_of(r)["denials"], nlohmann::json::array());
    EXPECT_EQ(r.err.find("aurora-jail: denied"), std::string::npos) << r.err;
}

// Every thread's call is answered, none twice, none lost: the count is exact.
TEST(RunDenials, SixtyFourThreadsDeniedAtOnceAreAllAnswered) {
    TempDir dir;
    auto policy = write_policy(dir, {{"blocked_syscalls", {"getppid"}}, {"blocked_action", kEacces}});
    auto r = run_aj(probe_args(policy, "threads-getppid", {"64"}, {"--json"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(probe_line(r), "EACCES 64") << r.out;
    const nlohmann::json report = report_of(r);
    const nlohmann::json* d = find_denial(report, "getppid", "x86_64");
    ASSERT_NE(d, nullptr) << r.out;
    EXPECT_EQ((*d)["count"], 64);
    // One line per call, not per thread.
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(RunDenials, I386CallIsReportedWithItsAbi) {
    TempDir dir;
    auto policy = write_policy(dir, {{"blocked_syscalls", {"getppid"}}, {"blocked_action", kEacces}});
    auto r = run_aj(probe_args(policy, "int80-getppid", {}, {"--json"}));
    if (r.exit_code == 128 + SIGSEGV || r.err.find("AddressSanitizer: SEGV") != std::string::npos)
        GTEST_SKIP() << "this kernel runs no i386 system calls (int 0x80 raised SIGSEGV)";
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(probe_line(r), "EACCES") << r.out;
    const nlohmann::json report = report_of(r);
    const nlohmann::json* d = find_denial(report, "getppid", "i386");
    ASSERT_NE(d, nullptr) << r.out;
    EXPECT_EQ((*d)["nr"], 64);
    EXPECT_NE(r.err.find("aurora-jail: denied getppid (i386 nr 64) by the foreign-ABI rule"), std::string::npos)
        << r.err;
}

// The sandboxed program may stack filters of its own, but not a second listener (the
// kernel allows one per filter chain); its own errno wins over the supervisor's.
TEST(RunDenials, NestedFilterWorksButNotASecondListener) {
    TempDir dir;
    auto policy = write_policy(dir, {{"blocked_syscalls", {"getppid"}}, {"blocked_action", kEacces}});
    auto r = run_aj(probe_args(policy, "nested-filter", {}, {"--json"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.substr(0, r.out.find("\n\n")), "EBUSY\nok 0\nENOANO") << r.out;
    EXPECT_EQ(report_of(r)["denials"], nlohmann::json::array()) << r.out;
}

// The listener leaves the sandbox: a process holding it could answer its own calls.
TEST(RunDenials, TheCommandHoldsNoListener) {
    TempDir dir;
    auto policy = write_policy(dir);
    auto r = run_aj(sh_args(policy, "for f in /proc/self/fd/*; do readlink \"$f\"; done; echo done"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("done"), std::string::npos);
    EXPECT_EQ(r.out.find("seccomp"), std::string::npos) << r.out;
}

TEST(RunDenials, KillStaysTheKernelsAndIsNotSupervised) {
    TempDir dir;
    auto policy = write_policy(dir, {{"blocked_syscalls", {"getppid"}}, {"blocked_action", "kill"}});
    auto r = run_aj(probe_args(policy, "getppid", {}, {"--json"}));
    EXPECT_EQ(r.exit_code, 128 + SIGSYS) << r.out << r.err;
    const nlohmann::json report = report_of(r);
    EXPECT_EQ(report["enforced"]["seccomp"]["denials_reported"], false);
    EXPECT_EQ(report["denials"], nlohmann::json::array());
}

}  // namespace
}  // namespace aj::test
