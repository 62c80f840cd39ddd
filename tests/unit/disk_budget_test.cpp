// The disk budget's measurement (helper/disk_budget.hpp) and the project quota probe
// (helper/project_quota.hpp), on real files of this host.
#include "helper/disk_budget.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "helper/launch.hpp"
#include "helper/project_quota.hpp"
#include "tests/support/process.hpp"

namespace aj::helper {
namespace {

constexpr std::uint64_t kMiB = 1024 * 1024;

// Writes `mib` MiB of non-zero data (so no file system can skip the blocks) to `path`.
void write_mib(const std::string& path, int mib) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0) << path;
    const std::string chunk(kMiB, 'x');
    for (int i = 0; i < mib; ++i) ASSERT_EQ(::write(fd, chunk.data(), chunk.size()), static_cast<ssize_t>(kMiB));
    ::close(fd);
}

TEST(DiskWalk, CountsBlocksAndInodesOnceEachWithoutFollowingSymlinks) {
    test::TempDir tmp;
    const std::string root = tmp.path() + "/t";
    std::filesystem::create_directories(root + "/a/b");
    write_mib(root + "/a/b/f", 2);
    ASSERT_EQ(::link((root + "/a/b/f").c_str(), (root + "/a/hard").c_str()), 0);
    // A symlink to a big tree elsewhere is one inode, not that tree.
    test::TempDir other;
    write_mib(other.path() + "/big", 4);
    std::filesystem::create_directory_symlink(other.path(), root + "/link");

    const DiskWalk walk = walk_trees({root, root + "/a", tmp.path() + "/missing"});
    // t, a, b, f (hard-linked twice: once), link.
    EXPECT_EQ(walk.usage.inodes, 5u);
    EXPECT_GE(walk.usage.bytes, 2 * kMiB);
    EXPECT_LT(walk.usage.bytes, 3 * kMiB);
    EXPECT_TRUE(walk.unreadable.empty());
}

TEST(DiskWalk, NamesADirectoryItCannotOpen) {
    if (test::running_as_root()) GTEST_SKIP() << "root opens a mode-000 directory anyway";
    test::TempDir tmp;
    std::filesystem::create_directory(tmp.path() + "/closed");
    ASSERT_EQ(::chmod((tmp.path() + "/closed").c_str(), 0), 0);
    const DiskWalk walk = walk_trees({tmp.path()});
    ::chmod((tmp.path() + "/closed").c_str(), 0700);
    ASSERT_EQ(walk.unreadable.size(), 1u);
    EXPECT_EQ(walk.unreadable.front(), tmp.path() + "/closed");
}

TEST(DiskWalk, FindsAnUnlinkedFileThisProcessHoldsOpen) {
    test::TempDir tmp;
    const std::string path = tmp.path() + "/gone";
    write_mib(path, 3);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::unlink(path.c_str()), 0);
    const DiskWalk walk = walk_trees({tmp.path()});
    const DiskUsage hidden = unlinked_open_files({::getpid()}, walk.devices, walk.seen);
    ::close(fd);
    EXPECT_EQ(hidden.inodes, 1u);
    EXPECT_GE(hidden.bytes, 3 * kMiB);
    // Another file system's unlinked files are not this budget's.
    EXPECT_EQ(unlinked_open_files({::getpid()}, {}, walk.seen).inodes, 0u);
}

TEST(DiskBudget, GrowthPastTheLimitIsOverAndReported) {
    test::TempDir tmp;
    write_mib(tmp.path() + "/before", 4);  // there before the run: not the run's
    policy::Limits limits;
    limits.disk_mb = 2;
    limits.files = 3;
    DiskBudget budget(limits, {tmp.path()});
    ASSERT_TRUE(budget.active());
    budget.start();
    EXPECT_FALSE(budget.poll({}));
    write_mib(tmp.path() + "/during", 3);
    ::usleep(60000);  // the walks are spaced: the next one is due
    EXPECT_TRUE(budget.poll({}));
    EXPECT_TRUE(budget.exceeded());
    EnforcementRecord record;
    budget.finish(record);
    const nlohmann::json j = to_json(record);
    EXPECT_EQ(j["limits"]["disk_mb"]["hit"], true) << j.dump();
    EXPECT_EQ(j["limits"]["disk_mb"]["backend"], "accounting") << j.dump();
    EXPECT_GE(j["limits"]["disk_mb"]["peak_added"].get<std::uint64_t>(), 3 * kMiB) << j.dump();
    EXPECT_EQ(j["limits"]["files"]["value"], 3) << j.dump();
    EXPECT_TRUE(j["limits"]["disk_mb"]["project_quota"].is_string()) << j.dump();
}

// A run that ends before the watch's next walk is measured by finish(): still a hit.
TEST(DiskBudget, PassingTheBudgetBetweenWalksIsFoundAfterTheRun) {
    test::TempDir tmp;
    policy::Limits limits;
    limits.disk_mb = 1;
    DiskBudget budget(limits, {tmp.path()});
    budget.start();
    EXPECT_FALSE(budget.poll({}));
    write_mib(tmp.path() + "/quick", 2);
    EnforcementRecord record;
    budget.finish(record);
    EXPECT_EQ(to_json(record)["limits"]["disk_mb"]["hit"], true) << to_json(record).dump();
}

TEST(DiskBudget, TooManyNewFilesIsOver) {
    test::TempDir tmp;
    policy::Limits limits;
    limits.files = 3;
    DiskBudget budget(limits, {tmp.path()});
    budget.start();
    for (int i = 0; i < 3; ++i) tmp.write("f" + std::to_string(i), "");
    EXPECT_FALSE(budget.poll({}));  // three new: at the limit, not past it
    tmp.write("f3", "");
    ::usleep(60000);
    EXPECT_TRUE(budget.poll({}));
}

TEST(DiskBudget, OutputAllowanceStopsAtTheBudget) {
    policy::Limits limits;
    limits.disk_mb = 1;
    DiskBudget budget(limits, {});
    EXPECT_FALSE(budget.active());  // nothing to watch until output is counted
    budget.count_relay_output();
    EXPECT_TRUE(budget.active());
    EXPECT_EQ(budget.output_allowance(), kMiB);
    budget.add_output_bytes(kMiB - 10);
    EXPECT_EQ(budget.output_allowance(), 10u);
    budget.add_output_bytes(10);
    EXPECT_EQ(budget.output_allowance(), 0u);
    EXPECT_TRUE(budget.note_output_cut());
    EXPECT_FALSE(budget.note_output_cut());  // said once
}

TEST(DiskBudget, UnlimitedPolicyWatchesNothing) {
    policy::Limits limits;
    DiskBudget budget(limits, {"/"});
    EXPECT_FALSE(budget.limited());
    EXPECT_FALSE(budget.active());
    budget.count_relay_output();
    EXPECT_FALSE(budget.active());
    EXPECT_EQ(budget.output_allowance(), UINT64_MAX);
}

TEST(DiskBudget, WritableTreesAreEveryPlaceTheLaunchGrants) {
    policy::Policy p;
    p.allowed_paths = {{"/usr", policy::PathMode::ReadOnly}, {"/srv/out", policy::PathMode::ReadWrite}};
    LaunchRequest request{p, {"true"}};
    request.workdir = "/home/u/w";
    request.extra_binds = {{"/pkg", "/plugin", policy::PathMode::ReadOnly}, {"/run/x", "/x", policy::PathMode::ReadWrite}};
    request.overlays = {{"/pkg", "/runs/1/work", "/runs/1/overlay-work", "/work"}};
    EXPECT_EQ(writable_host_trees(request),
              (std::vector<std::string>{"/home/u/w", "/srv/out", "/run/x", "/runs/1/work"}));
}

TEST(ProjectQuota, ProbeAnswersForThisHostsFileSystem) {
    test::TempDir tmp;
    const ProjectQuotaSupport q = probe_project_quota(tmp.path());
    // Either way the answer is definite; without quotas it says why and how to get them.
    if (!q.available) {
        EXPECT_FALSE(q.reason.empty());
    }
    RecordProperty("project_quota", q.available ? "available" : q.reason);
    EXPECT_NE(project_quota_reason(ESRCH).find("prjquota"), std::string::npos);
    EXPECT_EQ(project_quota_reason(0), "");
    EXPECT_FALSE(probe_project_quota(tmp.path() + "/missing").available);
}

}  // namespace
}  // namespace aj::helper

namespace aj::helper {
namespace {

TEST(ProjectQuota, LimitsAreWhatTheProjectHoldsPlusTheBudget) {
    if_dqblk current{};
    current.dqb_curspace = 10 * 1024 + 1;  // 11 quota blocks (KiB), rounded up
    current.dqb_curinodes = 7;
    const if_dqblk l = project_limits_for(current, 2 * 1024 * 1024, 100);
    EXPECT_EQ(l.dqb_valid, static_cast<__u32>(QIF_LIMITS));
    EXPECT_EQ(l.dqb_bhardlimit, 11u + 2048u);
    EXPECT_EQ(l.dqb_ihardlimit, 107u);
    // No budget: no limit (0), not a limit of what is there.
    const if_dqblk none = project_limits_for(current, 0, 0);
    EXPECT_EQ(none.dqb_bhardlimit, 0u);
    EXPECT_EQ(none.dqb_ihardlimit, 0u);
}

TEST(ProjectQuota, ApplyOnAFileSystemWithoutThemSaysWhyAndChangesNothing) {
    test::TempDir tmp;
    if (probe_project_quota(tmp.path()).available) GTEST_SKIP() << "this file system has project quotas";
    std::string why;
    EXPECT_FALSE(ProjectQuota::apply({tmp.path()}, 4000000, kMiB, 10, why));
    EXPECT_FALSE(why.empty());
    std::string ignored;
    EXPECT_FALSE(ProjectQuota::apply({}, 4000000, kMiB, 10, ignored));
}

}  // namespace
}  // namespace aj::helper
