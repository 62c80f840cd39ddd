// What the command's end says about limits (helper/report_enforced.hpp): a single process
// killed by SIGXCPU passed max_cpu_sec, so the report must say cpu_time_exceeded (it said
// false, issue 13); SIGXFSZ names max_file_size_mb; a timeout names timeout_sec.
#include <csignal>

#include <gtest/gtest.h>

#include "helper/report_enforced.hpp"
#include "policy/default_policy.hpp"

namespace aj::helper {
namespace {

TEST(LimitsHit, SigxcpuMeansCpuTimeExceeded) {
    EnforcementRecord r;
    r.cgroup.emplace();
    r.cgroup->created = true;
    note_limits_hit_by_end(r, policy::default_policy(), SIGXCPU, false, 300);
    EXPECT_TRUE(r.cgroup->cpu_time_exceeded);
    EXPECT_NE(r.limits.at("cpu_sec").hit_by.find("SIGXCPU"), std::string::npos);
    EXPECT_EQ(to_json(r).at("limits").at("cpu_sec").at("hit"), true);
    EXPECT_EQ(to_json(r).at("limits").at("cpu_sec").at("hit_by"), r.limits.at("cpu_sec").hit_by);
    EXPECT_TRUE(to_json(r, false).at("cgroup").at("cpu_time_exceeded").get<bool>());
}

TEST(LimitsHit, OtherEndsNameTheirOwnLimit) {
    EnforcementRecord r;
    r.cgroup.emplace();
    note_limits_hit_by_end(r, policy::default_policy(), SIGXFSZ, false, 300);
    EXPECT_NE(r.limits.at("file_size_mb").hit_by.find("SIGXFSZ"), std::string::npos);
    EXPECT_FALSE(r.cgroup->cpu_time_exceeded);
    EXPECT_FALSE(r.limits.contains("cpu_sec"));
    note_limits_hit_by_end(r, policy::default_policy(), std::nullopt, true, 300);
    EXPECT_EQ(r.limits.at("timeout_sec").hit, true);
    EXPECT_FALSE(r.limits.at("timeout_sec").hit_by.empty());
    EnforcementRecord clean;
    note_limits_hit_by_end(clean, policy::default_policy(), SIGTERM, false, 300);
    EXPECT_TRUE(clean.limits.empty());
}

// Another process than the command killed by a limit's signal (seen by the limits
// watch): named with its command name; the command's own end, when it is one, wins.
TEST(LimitsHit, AnotherProcessKilledByALimitSignal) {
    EnforcementRecord r;
    r.cgroup.emplace();
    r.limit_signal_deaths[SIGXCPU] = "python3";
    note_limits_hit_by_end(r, policy::default_policy(), std::nullopt, false, 300);
    EXPECT_NE(r.limits.at("cpu_sec").hit_by.find("a process of the sandbox (\"python3\") was killed by SIGXCPU"),
              std::string::npos)
        << r.limits.at("cpu_sec").hit_by;
    EXPECT_TRUE(r.cgroup->cpu_time_exceeded);
    EXPECT_FALSE(r.limits.contains("file_size_mb"));

    EnforcementRecord both;
    both.limit_signal_deaths[SIGXFSZ] = "";  // seen by a forked watch: no name
    note_limits_hit_by_end(both, policy::default_policy(), SIGXFSZ, false, 300);
    EXPECT_NE(both.limits.at("file_size_mb").hit_by.find("the command was killed by SIGXFSZ"), std::string::npos);

    // A name with a terminal escape in it reaches stderr escaped.
    EnforcementRecord hostile;
    hostile.limit_signal_deaths[SIGXCPU] = "\x1b]0;owned\x07";
    note_limits_hit_by_end(hostile, policy::default_policy(), std::nullopt, false, 300);
    EXPECT_EQ(hostile.limits.at("cpu_sec").hit_by.find('\x1b'), std::string::npos);
    EXPECT_NE(hostile.limits.at("cpu_sec").hit_by.find("(\"\\x1b]0;owned\\x07\")"), std::string::npos)
        << hostile.limits.at("cpu_sec").hit_by;

    EnforcementRecord unnamed;
    unnamed.limit_signal_deaths[SIGXFSZ] = "";
    note_limits_hit_by_end(unnamed, policy::default_policy(), 0, false, 300);
    EXPECT_NE(unnamed.limits.at("file_size_mb").hit_by.find("a process of the sandbox was killed by SIGXFSZ"),
              std::string::npos);
}

}  // namespace
}  // namespace aj::helper
