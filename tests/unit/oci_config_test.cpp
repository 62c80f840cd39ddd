// config.json -> ContainerPlan (oci/config.hpp): what is mapped, what is refused by name,
// and that a rootfs's symlinks are recreated rather than followed on the host.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "helper/mount_plan.hpp"
#include "oci/config.hpp"
#include "policy/error.hpp"
#include "tests/support/process.hpp"

namespace aj::oci {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

json minimal() {
    return json{{"ociVersion", "1.0.2"},
                {"root", {{"path", "rootfs"}}},
                {"process", {{"args", {"/bin/sh"}}, {"cwd", "/"}, {"env", {"PATH=/bin", "A=b=c"}}}},
                {"linux",
                 {{"namespaces",
                   {{{"type", "pid"}}, {{"type", "mount"}}, {{"type", "ipc"}}, {{"type", "uts"}},
                    {{"type", "user"}}, {{"type", "cgroup"}}, {{"type", "network"}}}}}}};
}

class OciConfig : public ::testing::Test {
protected:
    void SetUp() override {
        fs::create_directories(dir_.path() + "/rootfs/etc");
        fs::create_directories(dir_.path() + "/rootfs/proc");
        fs::create_directory_symlink("/lib/x86_64-linux-gnu", dir_.path() + "/rootfs/lib64");
    }
    ContainerPlan plan(const json& config) { return plan_container(config, dir_.path(), {}); }
    std::string refusal(const json& config) {
        try {
            plan(config);
        } catch (const Error& e) {
            return e.what();
        }
        return "(accepted)";
    }
    test::TempDir dir_;
};

TEST_F(OciConfig, MapsTheProcessAndTheRootfsEntries) {
    const ContainerPlan p = plan(minimal());
    EXPECT_EQ(p.argv, std::vector<std::string>{"/bin/sh"});
    EXPECT_EQ(p.cwd, "/");
    EXPECT_EQ(p.policy.env.set.at("A"), "b=c");
    EXPECT_TRUE(p.policy.env.pass.empty());
    EXPECT_EQ(p.policy.network, policy::NetworkMode::None);
    EXPECT_FALSE(p.policy.allow_fallback);
    EXPECT_FALSE(p.policy.limits.timeout_sec);
    EXPECT_TRUE(p.policy.allowed_paths.empty());
    // proc is the sandbox's own; etc is bound read-write (root.readonly unset); lib64 kept a link.
    ASSERT_EQ(p.binds.size(), 2u);
    EXPECT_EQ(p.binds[0].inside, "/etc");
    EXPECT_EQ(p.binds[0].mode, policy::PathMode::ReadWrite);
    EXPECT_EQ(p.binds[1].inside, "/lib64");
    EXPECT_TRUE(p.binds[1].recreate_symlink);
    EXPECT_TRUE(p.warnings.empty());
}

TEST_F(OciConfig, AnAbsoluteRootfsSymlinkIsRecreatedNotFollowedOnTheHost) {
    const ContainerPlan p = plan(minimal());
    const helper::MountPlan mounts = helper::build_mount_plan(p.policy, p.binds, std::nullopt);
    bool found = false;
    for (const auto& op : mounts.ops) {
        if (op.target != "/lib64") continue;
        found = true;
        EXPECT_EQ(op.kind, helper::MountKind::Symlink) << helper::describe(op);
        EXPECT_EQ(op.source, "/lib/x86_64-linux-gnu");
    }
    EXPECT_TRUE(found) << helper::describe(mounts);
}

TEST_F(OciConfig, NetworkAndLimitsFollowTheConfig) {
    json c = minimal();
    c["linux"]["namespaces"].erase(6);  // no network namespace: the host's network
    c["linux"]["resources"] = {{"memory", {{"limit", 64 << 20}}}, {"pids", {{"limit", 32}}}};
    c["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"hard", 100}, {"soft", 100}}};
    const ContainerPlan p = plan(c);
    EXPECT_EQ(p.policy.network, policy::NetworkMode::Host);
    EXPECT_EQ(p.policy.limits.memory_mb, 64u);
    EXPECT_EQ(p.policy.limits.pids, 32u);
    EXPECT_EQ(p.policy.limits.open_files, 100u);
    // A config never widens the policy's limits.
    c["linux"]["resources"]["memory"]["limit"] = 1LL << 40;
    EXPECT_EQ(plan(c).policy.limits.memory_mb, oci_default_policy().limits.memory_mb);
}

TEST_F(OciConfig, WhatCannotBeEnforcedIsRefusedByName) {
    json c = minimal();
    c["linux"]["namespaces"][6]["path"] = "/proc/1/ns/net";
    EXPECT_NE(refusal(c).find("linux.namespaces network: joining a namespace by path"), std::string::npos);
    c = minimal();
    c["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}};
    EXPECT_NE(refusal(c).find("linux.sysctl"), std::string::npos);
    c = minimal();
    c["linux"]["personality"] = {{"domain", "LINUX32"}};
    EXPECT_NE(refusal(c).find("linux.personality"), std::string::npos);
    c = minimal();
    c["process"]["rlimits"] = {{{"type", "RLIMIT_CORE"}, {"hard", 0}, {"soft", 0}}};
    EXPECT_NE(refusal(c).find("RLIMIT_CORE"), std::string::npos);
    c = minimal();
    c["process"]["terminal"] = true;
    EXPECT_NE(refusal(c).find("process.terminal"), std::string::npos);
    c = minimal();
    c["mounts"] = {{{"destination", "/data"}, {"type", "bind"}, {"source", "/usr"}, {"options", {"bind", "noexec"}}}};
    EXPECT_NE(refusal(c).find("bind option noexec"), std::string::npos);
    c = minimal();
    c["ociVersion"] = "2.0.0";
    EXPECT_NE(refusal(c).find("ociVersion"), std::string::npos);
    c = minimal();
    c["annotations"] = {{kPolicyAnnotation, "../etc/x"}};
    EXPECT_NE(refusal(c).find("not a stored policy name"), std::string::npos);
}

TEST_F(OciConfig, WhatIsStricterThanAskedIsAWarning) {
    json c = minimal();
    c["linux"]["namespaces"] = {{{"type", "mount"}}, {{"type", "network"}}};
    c["process"]["user"] = {{"uid", 0}, {"gid", 0}};
    c["mounts"] = {{{"destination", "/sys"}, {"type", "sysfs"}, {"source", "sysfs"}}};
    const ContainerPlan p = plan(c);
    std::string all;
    for (const auto& w : p.warnings) all += w + "\n";
    EXPECT_NE(all.find("a new pid namespace"), std::string::npos) << all;
    EXPECT_NE(all.find("uid 0 gid 0"), std::string::npos) << all;
    EXPECT_NE(all.find("mounts /sys (sysfs): not mounted yet"), std::string::npos) << all;
}

}  // namespace
}  // namespace aj::oci
