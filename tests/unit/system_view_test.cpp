// The system view as data: which /etc entries the default policy's mount plan shows and
// writes, that no secret is among them, and that the policy's own grants win over it.
#include <sys/stat.h>

#include <algorithm>

#include <gtest/gtest.h>

#include "helper/mount_plan.hpp"
#include "helper/system_view.hpp"
#include "policy/default_policy.hpp"
#include "policy/error.hpp"
#include "policy/parse.hpp"
#include "policy/sys.hpp"

namespace aj::helper {
namespace {

std::vector<const MountOp*> etc_ops(const MountPlan& plan) {
    std::vector<const MountOp*> out;
    for (const auto& op : plan.ops)
        if (at_or_below(op.target, "/etc")) out.push_back(&op);
    return out;
}

const MountOp* op_at(const MountPlan& plan, const std::string& target) {
    for (const auto& op : plan.ops)
        if (op.target == target) return &op;
    return nullptr;
}

TEST(SystemView, PasswdAndGroupNameTheSandboxUser) {
    EXPECT_EQ(sandbox_passwd(65534, 65534, "/tmp"),
              "root:x:0:0:root:/root:/usr/sbin/nologin\nsandbox:x:65534:65534:aurora-jail sandbox:/tmp:/bin/sh\n");
    EXPECT_EQ(sandbox_group(65534), "root:x:0:\nsandbox:x:65534:\n");
    // A home the format cannot carry cannot add a line or a field.
    EXPECT_EQ(sandbox_passwd(1, 1, "/x\nevil::0:0::/:/bin/sh").find("evil"), std::string::npos);
    EXPECT_EQ(sandbox_passwd(1, 1, "/a:b").find("/a:b"), std::string::npos);
    EXPECT_NE(sandbox_hosts("box").find("127.0.1.1\tbox\n"), std::string::npos);
}

TEST(SystemView, DefaultPlanShowsTheListAndWritesTheSandboxFiles) {
    const policy::Policy p = policy::default_policy();
    ASSERT_TRUE(p.system_view);
    MountPlan plan = build_mount_plan(p, {}, std::nullopt);
    for (const std::string& path : system_view_host_paths(p.network)) {
        const MountOp* op = op_at(plan, path);
        ASSERT_NE(op, nullptr) << path << "\n" << describe(plan);
        struct stat st {};
        ASSERT_EQ(::lstat(path.c_str(), &st), 0) << path;
        if (S_ISLNK(st.st_mode)) {
            EXPECT_EQ(op->kind, MountKind::Symlink) << path;
        } else if (S_ISREG(st.st_mode) && (st.st_mode & S_IROTH) && st.st_size <= 4 * 1024) {
            EXPECT_EQ(op->kind, MountKind::File) << path;  // copied by PID 1, not a mount
            EXPECT_EQ(op->source, path);
            EXPECT_TRUE(op->content.empty()) << path << ": its bytes never pass through the runner";
        } else {
            EXPECT_EQ(op->kind, MountKind::Bind) << path;
            EXPECT_EQ(op->access, BindAccess::ReadOnly) << path;
        }
    }
    for (const char* written : {"/etc/passwd", "/etc/group", "/etc/hostname", "/etc/hosts"}) {
        const MountOp* op = op_at(plan, written);
        ASSERT_NE(op, nullptr) << written;
        EXPECT_EQ(op->kind, MountKind::File) << written;
    }
    EXPECT_EQ(op_at(plan, "/etc/hostname")->content, "aurora-jail\n");
    // HOME of the default policy is the sandbox user's home.
    EXPECT_NE(op_at(plan, "/etc/passwd")->content.find(":/tmp:"), std::string::npos);
    // Nothing else of /etc: every op below it is one of the above.
    const auto host = system_view_host_paths(p.network);
    for (const MountOp* op : etc_ops(plan)) {
        const bool listed = std::find(host.begin(), host.end(), op->target) != host.end();
        EXPECT_TRUE(listed || op->kind == MountKind::File) << describe(*op);
    }
}

TEST(SystemView, NoSecretIsEverShown) {
    for (auto network : {policy::NetworkMode::None, policy::NetworkMode::Host})
        for (const std::string& path : system_view_host_paths(network))
            for (const char* secret : {"/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-", "/etc/sudoers",
                                       "/etc/sudoers.d", "/etc/ssh", "/etc/ssl", "/etc/ssl/private", "/etc/machine-id",
                                       "/etc/subuid", "/etc/subgid", "/etc/gitconfig", "/etc/pip.conf", "/etc/npmrc",
                                       "/etc/passwd", "/etc/group", "/etc"})
                EXPECT_FALSE(at_or_below(secret, path))
                    << path << " would show " << secret;
}

TEST(SystemView, HostNetworkBringsTheResolverNoneWritesHosts) {
    auto none = system_view_host_paths(policy::NetworkMode::None);
    auto host = system_view_host_paths(policy::NetworkMode::Host);
    EXPECT_EQ(std::find(none.begin(), none.end(), "/etc/resolv.conf"), none.end());
    EXPECT_EQ(std::find(none.begin(), none.end(), "/etc/hosts"), none.end());
    struct stat st {};
    if (::lstat("/etc/resolv.conf", &st) == 0) {
        EXPECT_NE(std::find(host.begin(), host.end(), "/etc/resolv.conf"), host.end());
    }
    policy::Policy p = policy::default_policy();
    p.network = policy::NetworkMode::Host;
    MountPlan plan = build_mount_plan(p, {}, std::nullopt);
    const MountOp* hosts = op_at(plan, "/etc/hosts");
    if (::lstat("/etc/hosts", &st) == 0) {
        ASSERT_NE(hosts, nullptr);
        // The host's own names, bound or copied.
        if (hosts->kind == MountKind::File) EXPECT_EQ(hosts->source, "/etc/hosts");
        else EXPECT_EQ(hosts->kind, MountKind::Bind);
    }
}

TEST(SystemView, ThePolicysOwnGrantsWin) {
    policy::Policy p = policy::default_policy();
    p.allowed_paths.push_back({"/etc/ssl", policy::PathMode::ReadOnly});
    p.allowed_paths.push_back({"/etc/passwd", policy::PathMode::ReadOnly});
    MountPlan plan = build_mount_plan(p, {}, std::nullopt);
    const MountOp* passwd = op_at(plan, "/etc/passwd");
    ASSERT_NE(passwd, nullptr);
    EXPECT_EQ(passwd->kind, MountKind::Bind);  // the host's, as the policy says
    EXPECT_EQ(op_at(plan, "/etc/ssl/certs"), nullptr) << describe(plan);
    EXPECT_NE(op_at(plan, "/etc/group"), nullptr);
}

TEST(SystemView, OffMeansNoEtcAtAll) {
    policy::Policy p = policy::parse_policy(R"({"system_view": false})", "p.json");
    EXPECT_FALSE(p.system_view);
    EXPECT_TRUE(etc_ops(build_mount_plan(p, {}, std::nullopt)).empty());
    EXPECT_TRUE(policy::parse_policy("{}", "p.json").system_view);
    EXPECT_THROW(policy::parse_policy(R"({"system_view": "yes"})", "p.json"), Error);
}

}  // namespace
}  // namespace aj::helper
