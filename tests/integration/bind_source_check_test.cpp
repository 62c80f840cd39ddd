// The sandbox's last check of a bind source, on the tree PID 1 actually opened: it must
// refuse the host's root, any procfs and the cgroup hierarchy even when the runner's
// check by name was passed (a path swapped after it). The same for a host file the system
// view copies: PID 1 copies only a small regular file every user may read. Real kernel
// objects throughout.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "helper/bind_source_check.hpp"
#include "helper/mount_plan.hpp"
#include "helper/mounts.hpp"
#include "policy/sys.hpp"
#include "policy/error.hpp"

namespace aj::helper {
namespace {

std::string reason_for(const std::string& path, BindAccess access) {
    sys::UniqueFd fd = sys::open_fd(path, O_PATH, "test: opening " + path);
    return undoing_bind_reason(fd.get(), access);
}

bool exists(const char* path) {
    struct stat st {};
    return ::stat(path, &st) == 0;
}

TEST(BindSourceCheck, RefusesWhatWouldUndoTheSandbox) {
    for (BindAccess access : {BindAccess::ReadOnly, BindAccess::ReadWrite}) {
        EXPECT_NE(reason_for("/", access), "");
        EXPECT_NE(reason_for("/proc", access), "");
        EXPECT_NE(reason_for("/proc/self", access), "");
        EXPECT_NE(reason_for("/proc/self/root", access), "") << "a magic link to the root";
        for (const char* h : {"/sys/fs/cgroup", "/sys/fs/cgroup/pids", "/sys/fs/cgroup/unified", "/sys/fs/cgroup/memory"}) {
            if (exists(h)) {
                EXPECT_NE(reason_for(h, access), "") << h;
            }
        }
    }
    EXPECT_NE(reason_for("/sys", BindAccess::ReadWrite), "");
    EXPECT_NE(reason_for("/sys/fs", BindAccess::ReadWrite), "");
}

TEST(BindSourceCheck, AllowsOrdinaryTrees) {
    EXPECT_EQ(reason_for("/usr", BindAccess::ReadOnly), "");
    EXPECT_EQ(reason_for("/usr", BindAccess::ReadWrite), "");
    EXPECT_EQ(reason_for("/sys", BindAccess::ReadOnly), "");
    EXPECT_EQ(reason_for("/dev/null", BindAccess::Device), "");
    char dir[] = "/tmp/aj-bindcheck-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    EXPECT_EQ(reason_for(dir, BindAccess::ReadWrite), "");
    ::rmdir(dir);
}

TEST(BindSourceCheck, FollowsSymlinksToTheRealTree) {
    char dir[] = "/tmp/aj-bindcheck-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    const std::string link = std::string(dir) + "/p";
    ASSERT_EQ(::symlink("/proc", link.c_str()), 0);
    EXPECT_NE(reason_for(link, BindAccess::ReadOnly), "");
    std::filesystem::remove_all(dir);
}

// Runs build_root(plan) in a child with its own user and mount namespaces (works as root
// and as nobody): "BUILT " and what `report` (a path in the new root) holds, "ERROR " and
// the message, or "SKIP ..." where the host cannot make the namespaces.
std::string build_root_in_child(const MountPlan& plan, const std::string& report = "") {
    int pipefd[2];
    if (::pipe(pipefd) != 0) return "ERROR pipe";
    pid_t child = ::fork();
    if (child < 0) return "ERROR fork";
    if (child == 0) {
        ::close(pipefd[0]);
        auto say = [&](const std::string& s) {
            (void)!::write(pipefd[1], s.data(), s.size());
            ::_exit(0);
        };
        const uid_t uid = ::geteuid();
        const gid_t gid = ::getegid();
        if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) say("SKIP unshare: " + std::string(strerror(errno)));
        auto write_file = [](const char* path, const std::string& text) {
            int fd = ::open(path, O_WRONLY);
            bool ok = fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
            if (fd >= 0) ::close(fd);
            return ok;
        };
        if (!write_file("/proc/self/setgroups", "deny") ||
            !write_file("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1\n") ||
            !write_file("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1\n"))
            say("SKIP writing the id maps failed");
        try {
            build_root(plan);
            say("BUILT " + (report.empty() ? std::string() : sys::read_file(report)));
        } catch (const std::exception& e) {
            say(std::string("ERROR ") + e.what());
        }
    }
    ::close(pipefd[1]);
    std::string out;
    char buf[512];
    ssize_t n;
    while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
    ::close(pipefd[0]);
    int status = 0;
    ::waitpid(child, &status, 0);
    return out;
}

MountPlan plan_with(MountOp op) {
    MountPlan plan;
    MountOp root;
    root.kind = MountKind::Tmpfs;
    root.target = "/";
    plan.ops.push_back(root);
    plan.ops.push_back(std::move(op));
    return plan;
}

// build_root itself refuses such a plan, whatever build_mount_plan would have said: the
// plan here is made by hand, as if the host path had changed after the runner's check.
TEST(BindSourceCheck, BuildRootRefusesAProcBindThatPassedTheRunner) {
    MountOp bind;
    bind.kind = MountKind::Bind;
    bind.source = "/proc";
    bind.target = "/hostproc";
    bind.access = BindAccess::ReadOnly;
    const std::string out = build_root_in_child(plan_with(bind));
    if (out.rfind("SKIP", 0) == 0) GTEST_SKIP() << out;
    EXPECT_EQ(out.rfind("ERROR ", 0), 0u) << out;
    EXPECT_NE(out.find("refused"), std::string::npos) << out;
    EXPECT_NE(out.find("procfs"), std::string::npos) << out;
}

// A system view file PID 1 copies (MountKind::File with a source): the host's bytes when
// it is what the plan saw; refused when it became unreadable to others, a link or too
// large between the runner's listing and PID 1's copy.
class CopiedHostFile : public ::testing::Test {
protected:
    void SetUp() override {
        char d[] = "/tmp/aj-copied-XXXXXX";
        ASSERT_NE(::mkdtemp(d), nullptr);
        dir = d;
        ASSERT_EQ(::chmod(dir.c_str(), 0755), 0);
        file = dir + "/conf";
        std::ofstream(file) << "host bytes\n";
        ASSERT_EQ(::chmod(file.c_str(), 0644), 0);
    }
    void TearDown() override { std::filesystem::remove_all(dir); }
    static MountOp copy_of(const std::string& source) {
        MountOp op;
        op.kind = MountKind::File;
        op.source = source;
        op.target = "/etc/conf";
        op.mode = 0644;
        return op;
    }
    std::string dir;
    std::string file;
};

TEST_F(CopiedHostFile, HoldsTheHostsBytes) {
    const std::string out = build_root_in_child(plan_with(copy_of(file)), "/etc/conf");
    if (out.rfind("SKIP", 0) == 0) GTEST_SKIP() << out;
    EXPECT_EQ(out, "BUILT host bytes\n");
}

TEST_F(CopiedHostFile, RefusedOnceOnlyItsOwnerMayReadIt) {
    ASSERT_EQ(::chmod(file.c_str(), 0600), 0);
    const std::string out = build_root_in_child(plan_with(copy_of(file)), "/etc/conf");
    if (out.rfind("SKIP", 0) == 0) GTEST_SKIP() << out;
    EXPECT_EQ(out.rfind("ERROR ", 0), 0u) << out;
    EXPECT_NE(out.find("changed while the sandbox started"), std::string::npos) << out;
}

TEST_F(CopiedHostFile, RefusedWhenALinkTookItsPlace) {
    const std::string link = dir + "/link";
    ASSERT_EQ(::symlink(file.c_str(), link.c_str()), 0);
    const std::string out = build_root_in_child(plan_with(copy_of(link)), "/etc/conf");
    if (out.rfind("SKIP", 0) == 0) GTEST_SKIP() << out;
    EXPECT_EQ(out.rfind("ERROR ", 0), 0u) << out;
    EXPECT_NE(out.find("ELOOP"), std::string::npos) << out;
}

TEST_F(CopiedHostFile, RefusedWhenItGrewPastTheLimit) {
    sys::write_file(file, std::string(kMaxCopiedHostFileBytes + 1, 'x'));
    const std::string out = build_root_in_child(plan_with(copy_of(file)), "/etc/conf");
    if (out.rfind("SKIP", 0) == 0) GTEST_SKIP() << out;
    EXPECT_EQ(out.rfind("ERROR ", 0), 0u) << out;
    EXPECT_NE(out.find("changed while the sandbox started"), std::string::npos) << out;
}

}  // namespace
}  // namespace aj::helper
