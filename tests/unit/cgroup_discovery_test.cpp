// Parsing /proc/self/cgroup + mountinfo into hierarchies: no kernel needed.
#include <gtest/gtest.h>

#include "helper/cgroup.hpp"
#include "helper/cgroup_discovery.hpp"
#include "helper/cgroup_fs.hpp"

using aj::helper::CgroupHierarchy;
using aj::helper::CgroupVersion;
using aj::helper::parse_cgroup_hierarchies;

namespace {

// This build machine: v1 for memory/cpu/cpuacct/pids, an empty cgroup2 at unified/.
const char* kHybridCgroup =
    "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/3fd5\n2:cpuacct:/\n1:cpu:/\n0::/\n";
const char* kHybridMounts =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime shared:5 - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

const CgroupHierarchy* find(const std::vector<CgroupHierarchy>& hs, const std::string& controller) {
    for (const auto& h : hs) {
        if (controller.empty() && h.version == CgroupVersion::V2) return &h;
        if (!controller.empty() && h.controllers.count(controller)) return &h;
    }
    return nullptr;
}

}  // namespace

TEST(CgroupDiscovery, HybridHostMapsEachControllerToItsDirectory) {
    auto hs = parse_cgroup_hierarchies(kHybridCgroup, kHybridMounts);
    ASSERT_EQ(hs.size(), 5u);  // the named systemd hierarchy is skipped
    const auto* mem = find(hs, "memory");
    ASSERT_NE(mem, nullptr);
    EXPECT_EQ(mem->version, CgroupVersion::V1);
    EXPECT_EQ(mem->own_dir, "/sys/fs/cgroup/memory/process_api/3fd5");
    EXPECT_FALSE(mem->own_is_root);
    const auto* pids = find(hs, "pids");
    ASSERT_NE(pids, nullptr);
    EXPECT_EQ(pids->own_dir, "/sys/fs/cgroup/pids");
    EXPECT_TRUE(pids->own_is_root);
    const auto* v2 = find(hs, "");
    ASSERT_NE(v2, nullptr);
    EXPECT_EQ(v2->own_dir, "/sys/fs/cgroup/unified");
    EXPECT_EQ(v2->mount_point, "/sys/fs/cgroup/unified");
}

// A tmpfs mounted over the cgroup2 mount (as a bench does to hide it from crun), or over
// the whole /sys/fs/cgroup, hides those hierarchies: their paths reach the tmpfs.
TEST(CgroupDiscovery, AHierarchyMountedOverIsNotUsed) {
    std::string over_unified = kHybridMounts;
    over_unified += "90 41 0:77 / /sys/fs/cgroup/unified rw,relatime - tmpfs none rw,size=4k\n";
    auto hs = parse_cgroup_hierarchies(kHybridCgroup, over_unified);
    EXPECT_EQ(hs.size(), 4u);
    EXPECT_EQ(find(hs, ""), nullptr);
    EXPECT_NE(find(hs, "memory"), nullptr);
    std::string over_all = kHybridMounts;
    over_all += "91 23 0:78 / /sys/fs/cgroup rw,relatime - tmpfs none rw\n";
    EXPECT_TRUE(parse_cgroup_hierarchies(kHybridCgroup, over_all).empty());
    // The parents of a mount, listed after it (a remount keeps the id), do not hide it.
    const std::string parent_later =
        "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
        "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
        "23 1 0:21 / /sys rw - sysfs sysfs rw\n";
    EXPECT_NE(find(parse_cgroup_hierarchies("0::/\n", parent_later), ""), nullptr);
}

TEST(CgroupDiscovery, CoMountedControllersFormOneHierarchy) {
    auto hs = parse_cgroup_hierarchies(
        "3:cpu,cpuacct:/user.slice\n",
        "30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n");
    ASSERT_EQ(hs.size(), 1u);
    EXPECT_EQ(hs[0].controllers, (std::set<std::string>{"cpu", "cpuacct"}));
    EXPECT_EQ(hs[0].own_dir, "/sys/fs/cgroup/cpu,cpuacct/user.slice");
}

TEST(CgroupDiscovery, PureV2WithEscapedMountPoint) {
    auto hs = parse_cgroup_hierarchies(
        "0::/user.slice/user-1000.slice/session-2.scope\n",
        "28 22 0:25 / /sys/fs/cgroup\\040v2 rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n");
    ASSERT_EQ(hs.size(), 1u);
    EXPECT_EQ(hs[0].own_dir, "/sys/fs/cgroup v2/user.slice/user-1000.slice/session-2.scope");
}

TEST(CgroupDiscovery, MountOfAnotherSubtreeIsNotUsed) {
    // A container that sees only /other of the hierarchy cannot reach our cgroup.
    auto hs = parse_cgroup_hierarchies("0::/mine\n",
                                       "28 22 0:25 /other /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
    EXPECT_TRUE(hs.empty());
    // ... while a mount of an ancestor of ours is fine.
    hs = parse_cgroup_hierarchies("0::/a/b\n", "28 22 0:25 /a /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
    ASSERT_EQ(hs.size(), 1u);
    EXPECT_EQ(hs[0].own_dir, "/sys/fs/cgroup/b");
    // A prefix that is not a path component ("/ab" is not under "/a") is refused.
    hs = parse_cgroup_hierarchies("0::/ab\n", "28 22 0:25 /a /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
    EXPECT_TRUE(hs.empty());
}

TEST(CgroupDiscovery, GarbageLinesAreIgnored) {
    auto hs = parse_cgroup_hierarchies("nonsense\n1:cpu\n\n0::relative\n", "short line\n- - -\n");
    EXPECT_TRUE(hs.empty());
}

TEST(CgroupFs, KeyedValues) {
    const char* events = "low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\noom_group_kill 0\n";
    EXPECT_EQ(aj::helper::cgroupfs::keyed_value(events, "oom_kill"), 2u);
    EXPECT_EQ(aj::helper::cgroupfs::keyed_value(events, "oom"), 3u);
    EXPECT_EQ(aj::helper::cgroupfs::keyed_value(events, "missing"), std::nullopt);
}

TEST(CgroupRequest, FromPolicyLimits) {
    aj::policy::Policy p;
    p.limits.memory_mb = 32;
    p.limits.cpus = 0.5;
    p.limits.pids = 20;
    auto r = aj::helper::cgroup_request_for(p);
    EXPECT_EQ(r.memory_bytes, 32u * 1024 * 1024);
    EXPECT_EQ(r.cpus, 0.5);
    EXPECT_EQ(r.pids, 20u);
    EXPECT_STREQ(aj::helper::backend_name(aj::helper::LimitBackend::CgroupV1), "cgroup-v1");
}
