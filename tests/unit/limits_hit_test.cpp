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

}  // namespace
}  // namespace aj::helper
