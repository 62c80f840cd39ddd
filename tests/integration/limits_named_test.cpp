// Limits a run reaches are named, on stderr ("aurora-jail: limit hit: ...") and in the
// report's enforced.limits.NAME.hit: the command's own error (EAGAIN, ENOSPC, a signal)
// does not say which policy key it met.
#include <csignal>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/jail.hpp"

namespace aj::test {
namespace {

nlohmann::json report_of(const ProcessResult& r) {
    std::string text = r.out;
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return nlohmann::json::parse(text.substr(text.rfind('\n') + 1));
}

TEST(LimitsNamed, PidsFromTheCgroupsEvents) {
    TempDir dir;
    auto policy = write_policy(dir, {{"max_pids", 8}});
    auto r = run_aj({"run", "--json", "--policy", policy, "--", "/bin/sh", "-c",
                     "i=0; while [ $i -lt 20 ]; do sleep 2 & i=$((i+1)); done 2>/dev/null; wait; exit 1"});
    const auto report = report_of(r);
    const auto& pids = report.at("enforced").at("limits").at("pids");
    if (pids.at("backend").get<std::string>().rfind("cgroup", 0) != 0)
        GTEST_SKIP() << "no pids cgroup for this caller (backend " << pids.at("backend") << ")";
    EXPECT_NE(r.err.find("aurora-jail: limit hit: max_pids 8 (cgroup pids."), std::string::npos) << r.err;
    EXPECT_EQ(pids.value("hit", false), true) << pids.dump();
    EXPECT_NE(pids.value("hit_by", "").find("cgroup pids."), std::string::npos) << pids.dump();
    // Under the limit, nothing is said.
    r = run_aj({"run", "--json", "--policy", policy, "--", "/bin/sh", "-c", "sleep 0 & wait"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err.find("limit hit"), std::string::npos) << r.err;
    EXPECT_FALSE(report_of(r).at("enforced").at("limits").at("pids").contains("hit"));
}

TEST(LimitsNamed, TmpfsBudget) {
    TempDir dir;
    auto policy = write_policy(dir, {{"max_tmpfs_mb", 1}});
    auto r = run_aj({"run", "--json", "--policy", policy, "--", "/bin/sh", "-c",
                     "head -c 2097152 /dev/zero > /tmp/fill"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("aurora-jail: limit hit: max_tmpfs_mb 1 (the scratch tmpfs"), std::string::npos) << r.err;
    EXPECT_TRUE(report_of(r).at("enforced").at("limits").at("tmpfs_mb").contains("hit"));
    r = run_aj({"run", "--policy", policy, "--", "/bin/sh", "-c", "head -c 1024 /dev/zero > /tmp/small"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err.find("limit hit"), std::string::npos) << r.err;
}

TEST(LimitsNamed, FileSizeBySigxfsz) {
    TempDir dir;
    auto policy = write_policy(dir, {{"max_file_size_mb", 1}});
    auto r = run_aj({"run", "--json", "--policy", policy, "--", "dd", "if=/dev/zero", "of=/tmp/f", "bs=1M", "count=2"});
    EXPECT_EQ(r.exit_code, 128 + SIGXFSZ) << r.err;
    EXPECT_NE(r.err.find("aurora-jail: limit hit: max_file_size_mb 1 (the command was killed by SIGXFSZ"),
              std::string::npos)
        << r.err;
    EXPECT_TRUE(report_of(r).at("enforced").at("limits").at("file_size_mb").contains("hit"));
}

// One process over max_cpu_sec: RLIMIT_CPU's SIGXCPU, or the cgroup's total; either way
// the report says the CPU limit was exceeded.
TEST(LimitsNamed, CpuTimeOfOneProcess) {
    TempDir dir;
    auto policy = write_policy(dir, {{"max_cpu_sec", 1}, {"timeout_sec", 30}});
    auto r = run_aj({"run", "--json", "--policy", policy, "--", "/bin/sh", "-c", "while :; do :; done"}, "", 60);
    ASSERT_NE(r.exit_code, 0);
    const auto report = report_of(r);
    EXPECT_FALSE(report.at("timed_out").get<bool>());
    EXPECT_TRUE(report.at("enforced").at("limits").at("cpu_sec").contains("hit")) << report.dump();
    const auto& cgroup = report.at("enforced").at("cgroup");
    if (cgroup.value("created", true)) {
        EXPECT_TRUE(cgroup.at("cpu_time_exceeded").get<bool>()) << cgroup.dump();
    }
    if (report.at("signal") == SIGXCPU) {
        EXPECT_NE(r.err.find("aurora-jail: limit hit: max_cpu_sec 1 (the command was killed by SIGXCPU"),
                  std::string::npos)
            << r.err;
    }
}

TEST(LimitsNamed, WallClock) {
    TempDir dir;
    auto policy = write_policy(dir, {{"timeout_sec", 1}});
    auto r = run_aj({"run", "--json", "--policy", policy, "--", "sleep", "5"});
    EXPECT_EQ(r.exit_code, 124);
    EXPECT_TRUE(report_of(r).at("enforced").at("limits").at("timeout_sec").contains("hit"));
}

}  // namespace
}  // namespace aj::test
