// The launcher's pure parts, without privileges: the mount plan as data, rlimit clamping,
// the environment, and the report channel's framing.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include <gtest/gtest.h>

#include "helper/channel.hpp"
#include "helper/env.hpp"
#include "helper/mount_plan.hpp"
#include "helper/rlimits.hpp"
#include "policy/sys.hpp"
#include "policy/default_policy.hpp"
#include "policy/error.hpp"
#include "tests/support/process.hpp"

namespace aj::helper {
namespace {

using policy::PathMode;
using policy::PathRule;

std::vector<std::string> lines(const MountPlan& plan) {
    std::vector<std::string> out;
    for (const auto& op : plan.ops) out.push_back(describe(op));
    return out;
}

std::size_t index_of(const MountPlan& plan, const std::string& target, MountKind kind) {
    for (std::size_t i = 0; i < plan.ops.size(); ++i)
        if (plan.ops[i].target == target && plan.ops[i].kind == kind) return i;
    return std::string::npos;
}

TEST(MountPlan, SkeletonFirstReadOnlyRootLast) {
    policy::Policy p;
    p.limits.tmpfs_mb = 32;
    MountPlan plan = build_mount_plan(p, {}, std::nullopt);
    ASSERT_GE(plan.ops.size(), 3u);
    EXPECT_EQ(describe(plan.ops.front()), "tmpfs / mode=0755 nosuid,nodev");
    EXPECT_EQ(describe(plan.ops.back()), "remount-ro /");
    auto l = lines(plan);
    for (const char* want : {"proc /proc nosuid,nodev,noexec", "bind /dev/null <- /dev/null dev,nosuid,noexec",
                             "scratch /tmp <- tmp mode=1777 (one tmpfs size=32M for all scratch) nosuid,nodev", "remount-ro /dev",
                             "symlink /dev/fd -> /proc/self/fd"})
        EXPECT_NE(std::find(l.begin(), l.end(), want), l.end()) << want;
    // /dev is made read-only after it is populated.
    EXPECT_LT(index_of(plan, "/dev/urandom", MountKind::Bind), index_of(plan, "/dev", MountKind::RemountReadOnly));
}

// /tmp and /dev/shm are two directories of one tmpfs: max_tmpfs_mb is one budget for
// both, not one each (issue 12 item 3).
TEST(MountPlan, TmpAndShmShareOneTmpfsBudget) {
    policy::Policy p;
    p.limits.tmpfs_mb = 64;
    MountPlan plan = build_mount_plan(p, {}, std::nullopt);
    std::size_t tmp = index_of(plan, "/tmp", MountKind::ScratchDir);
    std::size_t shm = index_of(plan, "/dev/shm", MountKind::ScratchDir);
    ASSERT_NE(tmp, std::string::npos) << describe(plan);
    ASSERT_NE(shm, std::string::npos) << describe(plan);
    EXPECT_EQ(plan.ops[tmp].size_mb, 64u);
    EXPECT_EQ(plan.ops[shm].size_mb, 64u);
    EXPECT_NE(plan.ops[tmp].source, plan.ops[shm].source);
    for (const auto& op : plan.ops)
        EXPECT_FALSE(op.kind == MountKind::Tmpfs && op.size_mb != 0) << "a tmpfs with a budget of its own: " << describe(op);
}

TEST(MountPlan, AllowedPathsBoundWithTheirModeParentsFirst) {
    test::TempDir dir;
    std::filesystem::create_directories(dir.path() + "/a/b/c");
    policy::Policy p;
    p.allowed_paths = {PathRule{dir.path() + "/a/b/c", PathMode::ReadWrite}, PathRule{dir.path() + "/a", PathMode::ReadOnly}};
    MountPlan plan = build_mount_plan(p, {}, std::nullopt);
    std::size_t deep = index_of(plan, dir.path() + "/a/b/c", MountKind::Bind);
    std::size_t top = index_of(plan, dir.path() + "/a", MountKind::Bind);
    ASSERT_NE(deep, std::string::npos);
    ASSERT_NE(top, std::string::npos);
    EXPECT_LT(top, deep);
    EXPECT_EQ(plan.ops[top].access, BindAccess::ReadOnly);
    EXPECT_EQ(plan.ops[deep].access, BindAccess::ReadWrite);
    // Policy binds come after the skeleton, so a path below /tmp is not hidden by it.
    EXPECT_GT(top, index_of(plan, "/tmp", MountKind::ScratchDir));
}

TEST(MountPlan, SymlinkedAllowedPathIsRecreatedNotFollowed) {
    test::TempDir dir;
    std::filesystem::create_directory(dir.path() + "/real");
    std::filesystem::create_directory_symlink("real", dir.path() + "/link");
    policy::Policy p;
    p.allowed_paths = {PathRule{dir.path() + "/link", PathMode::ReadOnly}};
    MountPlan plan = build_mount_plan(p, {}, std::nullopt);
    std::size_t i = index_of(plan, dir.path() + "/link", MountKind::Symlink);
    ASSERT_NE(i, std::string::npos) << describe(plan);
    EXPECT_EQ(plan.ops[i].source, "real");
    EXPECT_EQ(index_of(plan, dir.path() + "/link", MountKind::Bind), std::string::npos);
}

TEST(MountPlan, MissingPathIsAClearError) {
    policy::Policy p;
    p.allowed_paths = {PathRule{"/no/such/path/for/aj", PathMode::ReadOnly}};
    try {
        build_mount_plan(p, {}, std::nullopt);
        FAIL() << "no error for a missing path";
    } catch (const Error& e) {
        EXPECT_EQ(e.exit_code(), kExitInternal);
        EXPECT_NE(std::string(e.what()).find("/no/such/path/for/aj"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("ENOENT"), std::string::npos) << e.what();
    }
}

// What the policy refuses by name (tests/unit/policy_parse_test.cpp) is refused here once
// resolved on the host, so a symlink on the way cannot bring the host's /proc back.
TEST(MountPlan, BindThatUndoesTheSandboxIsRefusedAfterResolving) {
    test::TempDir dir;
    const std::string link = dir.path() + "/p";
    ASSERT_EQ(::symlink("/proc", link.c_str()), 0);
    policy::Policy p;
    p.allowed_paths = {PathRule{link + "/1", PathMode::ReadOnly}};
    try {
        build_mount_plan(p, {}, std::nullopt);
        FAIL() << "the host's /proc was bound through a symlink";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("(resolves to /proc/1)"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("is the host's /proc"), std::string::npos) << e.what();
    }
    // The final component a symlink is recreated, not followed: allowed.
    p.allowed_paths = {PathRule{link, PathMode::ReadOnly}};
    EXPECT_NO_THROW(build_mount_plan(p, {}, std::nullopt));
    // The work directory and extra binds are held to the same rule.
    p.allowed_paths.clear();
    EXPECT_THROW(build_mount_plan(p, {}, std::string("/")), Error);
    EXPECT_THROW(build_mount_plan(p, {ExtraBind{link + "/self", "/plugin", PathMode::ReadOnly}}, std::nullopt), Error);
}

TEST(MountPlan, WorkdirAndExtraBinds) {
    test::TempDir work, pkg;
    policy::Policy p;
    MountPlan plan = build_mount_plan(p, {ExtraBind{pkg.path(), "/plugin", PathMode::ReadOnly}}, work.path());
    std::size_t w = index_of(plan, work.path(), MountKind::Bind);
    std::size_t e = index_of(plan, "/plugin", MountKind::Bind);
    ASSERT_NE(w, std::string::npos);
    ASSERT_NE(e, std::string::npos);
    EXPECT_EQ(plan.ops[w].access, BindAccess::ReadWrite);
    EXPECT_EQ(plan.ops[e].access, BindAccess::ReadOnly);
    EXPECT_EQ(plan.ops[e].source, pkg.path());
    EXPECT_THROW(build_mount_plan(p, {}, std::string("relative/dir")), Error);
}

// Issue 15: a symlink listed below a granted tree is already shown by the tree's bind;
// recreating it failed the run with EEXIST.
TEST(MountPlan, SymlinkBelowAGrantedTreeIsLeftToThatTree) {
    test::TempDir dir;
    std::filesystem::create_directories(dir.path() + "/usr/share/go-1.19");
    std::filesystem::create_directory_symlink("go-1.19", dir.path() + "/usr/share/go");
    policy::Policy p;
    p.allowed_paths = {PathRule{dir.path() + "/usr", PathMode::ReadOnly},
                       PathRule{dir.path() + "/usr/share/go", PathMode::ReadOnly}};
    MountPlan plan = build_mount_plan(p, {}, std::nullopt);
    EXPECT_NE(index_of(plan, dir.path() + "/usr", MountKind::Bind), std::string::npos) << describe(plan);
    EXPECT_EQ(index_of(plan, dir.path() + "/usr/share/go", MountKind::Symlink), std::string::npos) << describe(plan);
    // Alone, the same symlink is recreated (it is not inside any bind).
    p.allowed_paths = {PathRule{dir.path() + "/usr/share/go", PathMode::ReadOnly}};
    plan = build_mount_plan(p, {}, std::nullopt);
    EXPECT_NE(index_of(plan, dir.path() + "/usr/share/go", MountKind::Symlink), std::string::npos) << describe(plan);
}

TEST(MountPlan, NestedGrantsKeepTheirOwnModesInsideOut) {
    test::TempDir dir;
    std::filesystem::create_directories(dir.path() + "/ro/rw");
    std::filesystem::create_directories(dir.path() + "/rw/ro");
    dir.write("ro/file", "x");
    policy::Policy p;
    p.allowed_paths = {PathRule{dir.path() + "/ro/rw", PathMode::ReadWrite}, PathRule{dir.path() + "/ro", PathMode::ReadOnly},
                       PathRule{dir.path() + "/rw", PathMode::ReadWrite}, PathRule{dir.path() + "/rw/ro", PathMode::ReadOnly},
                       PathRule{dir.path() + "/ro/file", PathMode::ReadWrite}};
    MountPlan plan = build_mount_plan(p, {}, std::nullopt);
    for (const char* inner : {"/ro/rw", "/rw/ro", "/ro/file"}) {
        std::size_t i = index_of(plan, dir.path() + inner, MountKind::Bind);
        std::string outer = dir.path() + "/" + std::string(inner).substr(1, 2);
        ASSERT_NE(i, std::string::npos) << inner << "\n" << describe(plan);
        EXPECT_LT(index_of(plan, outer, MountKind::Bind), i) << inner;
    }
    EXPECT_EQ(plan.ops[index_of(plan, dir.path() + "/ro/rw", MountKind::Bind)].access, BindAccess::ReadWrite);
    EXPECT_EQ(plan.ops[index_of(plan, dir.path() + "/rw/ro", MountKind::Bind)].access, BindAccess::ReadOnly);
}

// A mount point inside a granted tree would have to be created in the host's directory
// (through a rw bind, on the host itself): refused by name before anything runs.
TEST(MountPlan, GrantInsideAGrantedTreeWhereTheTreeHasNothingIsRefused) {
    test::TempDir dir;
    std::filesystem::create_directories(dir.path() + "/tree");
    std::filesystem::create_directories(dir.path() + "/elsewhere");
    dir.write("afile", "x");
    policy::Policy p;
    p.allowed_paths = {PathRule{dir.path() + "/tree", PathMode::ReadWrite}};
    try {
        build_mount_plan(p, {ExtraBind{dir.path() + "/elsewhere", dir.path() + "/tree/new", PathMode::ReadOnly}}, std::nullopt);
        ADD_FAILURE() << "a mount point would have been created in the host's " << dir.path() << "/tree";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("lies inside the granted " + dir.path() + "/tree"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(std::filesystem::exists(dir.path() + "/tree/new"));
    // A file where the tree has a directory: refused, naming both.
    std::filesystem::create_directories(dir.path() + "/tree/sub");
    EXPECT_THROW(build_mount_plan(p, {ExtraBind{dir.path() + "/afile", dir.path() + "/tree/sub", PathMode::ReadOnly}},
                                  std::nullopt),
                 Error);
}

TEST(MountPlan, OverlayIsPlannedAfterItsParentsAndChecked) {
    test::TempDir pkg, run;
    std::filesystem::create_directory(run.path() + "/upper");
    std::filesystem::create_directory(run.path() + "/scratch");
    policy::Policy p;
    const OverlayMount o{pkg.path(), run.path() + "/upper", run.path() + "/scratch", "/work"};
    MountPlan plan = build_mount_plan(p, {ExtraBind{pkg.path(), "/plugin", PathMode::ReadOnly}}, std::nullopt, {o});
    std::size_t i = index_of(plan, "/work", MountKind::Overlay);
    ASSERT_NE(i, std::string::npos);
    EXPECT_EQ(plan.ops[i].source, pkg.path());
    EXPECT_EQ(plan.ops[i].upper, run.path() + "/upper");
    EXPECT_EQ(plan.ops[i].work, run.path() + "/scratch");
    EXPECT_LT(index_of(plan, "/tmp", MountKind::ScratchDir), i);
    EXPECT_LT(i, index_of(plan, "/", MountKind::RemountReadOnly));
    EXPECT_EQ(describe(plan.ops[i]), "overlay /work <- lower=" + pkg.path() + " upper=" + run.path() +
                                         "/upper nosuid,nodev");
    // Each of the three host directories must exist, be a directory, and not undo the sandbox.
    auto missing = o;
    missing.upper = run.path() + "/nope";
    EXPECT_THROW(build_mount_plan(p, {}, std::nullopt, {missing}), Error);
    auto proc = o;
    proc.lower = "/proc";
    EXPECT_THROW(build_mount_plan(p, {}, std::nullopt, {proc}), Error);
    auto relative = o;
    relative.inside = "work";
    EXPECT_THROW(build_mount_plan(p, {}, std::nullopt, {relative}), Error);
}

TEST(Rlimits, TableAndClampToHardLimit) {
    rlimit nofile{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &nofile), 0);
    policy::Policy p;
    p.limits.open_files = nofile.rlim_max == RLIM_INFINITY ? 1000 : nofile.rlim_max + 1000;
    p.limits.memory_mb = 100;
    auto settings = plan_rlimits(p, RlimitScope::HostUserNamespace);
    auto find = [&](const std::string& name) {
        return std::find_if(settings.begin(), settings.end(), [&](const RlimitSetting& s) { return s.name == name; });
    };
    ASSERT_NE(find("memory_mb"), settings.end());
    EXPECT_EQ(find("memory_mb")->soft, 100u * 1024 * 1024);
    ASSERT_NE(find("open_files"), settings.end());
    EXPECT_LE(find("open_files")->hard, nofile.rlim_max);
    EXPECT_EQ(find("open_files")->clamped, nofile.rlim_max != RLIM_INFINITY);
    ASSERT_NE(find("core"), settings.end());
    EXPECT_EQ(find("core")->hard, 0u);
    EXPECT_EQ(find("cpu_sec"), settings.end());  // not in the policy: not set
}

TEST(Rlimits, NprocCarriesMaxPidsOnlyInsideOwnUserNamespace) {
    policy::Policy p;
    p.limits.pids = 64;
    auto has_pids = [](const std::vector<RlimitSetting>& settings) {
        return std::any_of(settings.begin(), settings.end(), [](const RlimitSetting& s) {
            return s.name == "pids" && s.resource == RLIMIT_NPROC && s.soft == 64;
        });
    };
    EXPECT_TRUE(has_pids(plan_rlimits(p, RlimitScope::OwnUserNamespace)));
    // Host-wide per-uid counting would limit unrelated processes of the same uid.
    EXPECT_FALSE(has_pids(plan_rlimits(p, RlimitScope::HostUserNamespace)));
}

TEST(Environment, OnlyPassedAndSet) {
    policy::Environment env;
    env.pass = {"LANG", "MISSING"};
    env.set = {{"PATH", "/bin"}, {"LANG", "C"}};
    const char* caller[] = {"LANG=de_DE", "SECRET=x", "LANGUAGE=y", nullptr};
    auto out = build_environment(env, caller);
    EXPECT_EQ(out, (std::vector<std::string>{"LANG=C", "PATH=/bin"}));
    env.set.clear();
    out = build_environment(env, caller);
    EXPECT_EQ(out, (std::vector<std::string>{"LANG=de_DE"}));
}

TEST(Channel, MessagesSurviveFramingAndPartialReads) {
    auto pipe = sys::make_pipe("pipe");
    send_message(pipe.write.get(), MessageKind::SetupError, 0, "binding /x: ENOENT");
    send_message(pipe.write.get(), MessageKind::Status, 0x8b00, "");
    pipe.write.reset();
    std::string bytes = sys::read_all(pipe.read.get(), 1 << 16, "read");
    std::string buffer = bytes.substr(0, 5);
    EXPECT_TRUE(take_messages(buffer).empty());  // incomplete: kept for later
    buffer += bytes.substr(5);
    auto msgs = take_messages(buffer);
    ASSERT_EQ(msgs.size(), 2u);
    EXPECT_EQ(msgs[0].kind, MessageKind::SetupError);
    EXPECT_EQ(msgs[0].text, "binding /x: ENOENT");
    EXPECT_EQ(msgs[1].kind, MessageKind::Status);
    EXPECT_EQ(msgs[1].value, 0x8b00);
    EXPECT_TRUE(buffer.empty());
}

}  // namespace
}  // namespace aj::helper
