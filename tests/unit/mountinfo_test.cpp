// /proc/self/mountinfo parsing and the classification of a granted tree's submounts
// (helper/mountinfo.hpp, helper/bind_source_check.hpp), without privileges.
#include <gtest/gtest.h>

#include "helper/bind_source_check.hpp"
#include "helper/mountinfo.hpp"

namespace aj::helper {
namespace {

constexpr const char* kSample =
    "22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:5 - proc proc rw\n"
    "1 0 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "40 1 8:2 / /srv/my\\040data rw,relatime shared:9 - ext4 /dev/sda2 rw\n"
    "41 40 0:50 / /srv/my\\040data/proc rw,relatime - proc proc rw\n"
    "42 41 0:51 / /srv/my\\040data/proc/sys/fs/binfmt_misc rw - binfmt_misc binfmt_misc rw\n"
    "43 40 0:52 / /srv/my\\040data/cg rw - cgroup cgroup rw,memory\n"
    "garbage line\n";

TEST(MountInfo, ParsesFieldsAndUnescapes) {
    auto m = parse_mountinfo(kSample);
    ASSERT_EQ(m.size(), 6u);
    EXPECT_EQ(m[2].id, 40u);
    EXPECT_EQ(m[2].parent, 1u);
    EXPECT_EQ(m[2].mount_point, "/srv/my data");
    EXPECT_EQ(m[2].fs_type, "ext4");
    EXPECT_EQ(m[5].super_options, "rw,memory");
}

TEST(MountInfo, MountsBelowAreTheWholeSubtreeParentsFirst) {
    auto below = mounts_below(parse_mountinfo(kSample), 40);
    ASSERT_EQ(below.size(), 3u);
    EXPECT_EQ(below[0].id, 41u);
    EXPECT_EQ(below[1].id, 43u);
    EXPECT_EQ(below[2].id, 42u);
    EXPECT_TRUE(mounts_below(parse_mountinfo(kSample), 43).empty());
}

TEST(MountInfo, SubmountTypesThatUndoTheSandbox) {
    for (const char* t : {"proc", "cgroup", "cgroup2", "sysfs", "devtmpfs", "devpts", "nsfs", "bpf", "debugfs",
                          "tracefs", "securityfs", "configfs", "efivarfs", "fusectl", "pstore", "binfmt_misc", "mqueue"})
        EXPECT_NE(undoing_submount_type(t), "") << t;
    for (const char* t : {"ext4", "xfs", "btrfs", "tmpfs", "overlay", "fuse.sshfs", "nfs4", "vfat"})
        EXPECT_EQ(undoing_submount_type(t), "") << t;
}

}  // namespace
}  // namespace aj::helper
