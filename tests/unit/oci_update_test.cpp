// aurora-runc update's pure parts (oci/update.hpp, oci/cgroup_resources.hpp): runc's flags
// as a LinuxResources document, the sandbox's limits under the policy's ceiling (create's
// rule and update's), the sandbox cgroup's values, and the ceiling kept in the record.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "oci/cgroup_resources.hpp"
#include "oci/config.hpp"
#include "oci/container_restrictions.hpp"
#include "oci/update.hpp"
#include "policy/error.hpp"
#include "tests/support/process.hpp"

namespace aj::oci {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string refused_flags(const std::vector<std::pair<std::string, std::string>>& flags) {
    try {
        resources_from_flags(flags);
    } catch (const Error& e) {
        return e.what();
    }
    return "(accepted)";
}

TEST(OciUpdate, RuncsFlagsBecomeALinuxResourcesDocument) {
    const json r = resources_from_flags({{"memory", "512m"},
                                         {"memory-swap", "-1"},
                                         {"memory-reservation", "1.5g"},
                                         {"cpu-share", "512"},
                                         {"cpu-quota", "-1"},
                                         {"cpu-period", "100000"},
                                         {"cpuset-cpus", "0-1"},
                                         {"cpuset-mems", "0"},
                                         {"pids-limit", "64"},
                                         {"blkio-weight", "300"}});
    const json want = {{"memory", {{"limit", 512LL << 20}, {"swap", -1}, {"reservation", 3LL << 29}}},
                       {"cpu", {{"shares", 512}, {"quota", -1}, {"period", 100000}, {"cpus", "0-1"}, {"mems", "0"}}},
                       {"pids", {{"limit", 64}}},
                       {"blockIO", {{"weight", 300}}}};
    EXPECT_EQ(r, want);
    // Units as runc reads them: powers of 1024, an optional i and b, any case; plain bytes.
    for (const auto& [text, bytes] : std::vector<std::pair<std::string, std::int64_t>>{
             {"1024", 1024}, {"100kb", 102400}, {"64MiB", 64LL << 20}, {"2G", 2LL << 30}, {"1t", 1LL << 40}, {"0.5k", 512}})
        EXPECT_EQ(resources_from_flags({{"memory", text}})["memory"]["limit"], bytes) << text;
    // --cpu-shares, as podman's and the brief's spelling, is runc's --cpu-share.
    EXPECT_EQ(resources_from_flags({{"cpu-shares", "2"}})["cpu"]["shares"], 2);
    EXPECT_EQ(resources_from_flags({}), json::object());
    EXPECT_NE(refused_flags({{"memory", "12q"}}).find("invalid value \"12q\" for flag --memory"), std::string::npos);
    EXPECT_NE(refused_flags({{"memory", "m"}}).find("--memory"), std::string::npos);
    EXPECT_NE(refused_flags({{"memory", "1..2m"}}).find("--memory"), std::string::npos);
    EXPECT_NE(refused_flags({{"memory", "9000p"}}).find("out of range"), std::string::npos);
    EXPECT_NE(refused_flags({{"pids-limit", "ten"}}).find("invalid value \"ten\" for flag --pids-limit"),
              std::string::npos);
    EXPECT_NE(refused_flags({{"cpu-quota", "99999999999999999999"}}).find("out of range"), std::string::npos);
    EXPECT_NE(refused_flags({{"l3-cache-schema", "L3:0=f"}}).find("Intel RDT"), std::string::npos);
}

// The one rule create and update share: no ceiling (the OCI default policy) replaces; a
// named policy's ceiling clamps, with a warning; no limit asked leaves the limit alone.
TEST(OciUpdate, SandboxLimitsStayUnderTheCeiling) {
    policy::Limits limits;
    limits.memory_mb = 512;
    limits.pids = 256;
    std::vector<std::string> warnings;
    apply_sandbox_limits(json{{"memory", {{"limit", 1LL << 31}}}, {"pids", {{"limit", 1000}}}}, {}, limits, warnings);
    EXPECT_EQ(limits.memory_mb, 2048u);
    EXPECT_EQ(limits.pids, 1000u);
    EXPECT_TRUE(warnings.empty());

    const LimitCeiling ceiling{128, 50};
    apply_sandbox_limits(json{{"memory", {{"limit", 1LL << 31}}}, {"pids", {{"limit", 1000}}}}, ceiling, limits,
                         warnings);
    EXPECT_EQ(limits.memory_mb, 128u);
    EXPECT_EQ(limits.pids, 50u);
    ASSERT_EQ(warnings.size(), 2u);
    EXPECT_EQ(warnings[0],
              "linux.resources.memory.limit: 2048 MiB is above the ceiling of the container's aurora-jail policy, "
              "which applies (128 MiB)");
    EXPECT_EQ(warnings[1],
              "linux.resources.pids.limit: 1000 is above the ceiling of the container's aurora-jail policy, which "
              "applies (50)");

    warnings.clear();
    apply_sandbox_limits(json{{"memory", {{"limit", 1000}}}, {"pids", {{"limit", 7}}}}, ceiling, limits, warnings);
    EXPECT_EQ(limits.memory_mb, 1u);  // MiB rounded down, at least 1
    EXPECT_EQ(limits.pids, 7u);
    apply_sandbox_limits(json{{"memory", {{"limit", -1}}}, {"pids", {{"limit", 0}}}}, ceiling, limits, warnings);
    EXPECT_EQ(limits.memory_mb, 1u);
    EXPECT_EQ(limits.pids, 7u);
    EXPECT_TRUE(warnings.empty());
    // Within what a policy may hold, so that the record parses again.
    apply_sandbox_limits(json{{"pids", {{"limit", 10000000}}}, {"memory", {{"limit", 1LL << 62}}}}, {}, limits,
                         warnings);
    EXPECT_EQ(limits.pids, 4194304u);
    EXPECT_EQ(limits.memory_mb, 1u << 20);
}

TEST(OciUpdate, SandboxCgroupValuesAreTheLaunchLibrarys) {
    policy::Policy p;
    p.limits.memory_mb = 64;
    p.limits.pids = 30;
    const std::vector<ControlWrite> want = {
        {"memory", "memory.limit_in_bytes", "67108864", "memory.max", "67108864"},
        {"memory", "memory.memsw.limit_in_bytes", "67108864", "memory.swap.max", "0", true},
        {"pids", "pids.max", "30", "pids.max", "30"},
    };
    EXPECT_EQ(sandbox_limit_writes(p), want);
}

// create records the ceiling (a named policy's own limits; none for the default policy);
// a record without one holds its recorded limits as the ceiling.
TEST(OciUpdate, TheCeilingIsANamedPolicysAndIsRecorded) {
    test::TempDir dir;
    fs::create_directories(dir.path() + "/rootfs");
    fs::create_directories(dir.path() + "/policies");
    std::ofstream(dir.path() + "/policies/capped.json") << json{{"max_pids", 50}, {"max_memory_mb", 128}}.dump();
    json c{{"ociVersion", "1.0.2"},
           {"root", {{"path", "rootfs"}}},
           {"process", {{"args", {"/bin/sh"}}, {"cwd", "/"}}},
           {"linux",
            {{"namespaces",
              {{{"type", "pid"}}, {{"type", "mount"}}, {{"type", "user"}}, {{"type", "cgroup"}}, {{"type", "network"}}}},
             {"resources", {{"pids", {{"limit", 500}}}}}}}};
    ContainerPlan p = plan_container(c, dir.path(), {dir.path() + "/policies"});
    EXPECT_EQ(p.limit_ceiling, LimitCeiling{});
    EXPECT_EQ(p.policy.limits.pids, 500u);
    c["annotations"] = {{"io.aurora-jail.policy", "capped"}};
    p = plan_container(c, dir.path(), {dir.path() + "/policies"});
    EXPECT_EQ(p.limit_ceiling, (LimitCeiling{128, 50}));
    EXPECT_EQ(p.policy.limits.pids, 50u);
    bool warned = false;
    for (const auto& w : p.warnings) warned |= w.find("linux.resources.pids.limit: 500 is above the ceiling") == 0;
    EXPECT_TRUE(warned);

    ContainerRestrictions r{p.policy};
    r.limit_ceiling = p.limit_ceiling;
    EXPECT_EQ(container_restrictions_from_json(to_json(r)).limit_ceiling, (LimitCeiling{128, 50}));
    r.limit_ceiling = {};
    EXPECT_EQ(container_restrictions_from_json(to_json(r)).limit_ceiling, LimitCeiling{});
    json old = to_json(r);
    old.erase("limit_ceiling");
    EXPECT_EQ(container_restrictions_from_json(old).limit_ceiling, (LimitCeiling{p.policy.limits.memory_mb, 50}));
}

}  // namespace
}  // namespace aj::oci
