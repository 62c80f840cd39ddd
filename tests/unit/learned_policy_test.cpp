// learned_policy(): what `aurora-jail learn` writes from a record, on real files.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "policy/default_policy.hpp"
#include "policy/parse.hpp"
#include "runner/learned_policy.hpp"
#include "tests/support/process.hpp"

namespace aj::runner {
namespace {

using policy::PathMode;
using policy::PathRule;

bool has(const policy::Policy& p, const std::string& path, PathMode mode) {
    return std::find(p.allowed_paths.begin(), p.allowed_paths.end(), PathRule{path, mode}) != p.allowed_paths.end();
}

helper::HostIds self() { return {::getuid(), ::getgid()}; }
helper::PathUse read() { return {true, false, false, false}; }
helper::PathUse created() { return {false, false, true, false}; }

TEST(LearnedPolicy, PathsReadWrittenCreatedAndMissing) {
    test::TempDir dir;
    const std::string& d = dir.path();
    const std::string file = dir.write("one.txt", "x");
    ASSERT_EQ(::mkdir((d + "/out").c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((d + "/many").c_str(), 0755), 0);
    helper::Learned l;
    l.paths[file] = read();
    l.paths[d + "/out/new.txt"] = created();     // created: its directory rw
    l.paths[d + "/never-made"] = read();         // missing on the host: not granted
    l.paths["/proc/self/status"] = read();       // the sandbox's own
    l.paths["/tmp"] = created();                 // likewise
    for (const char* f : {"a", "b", "c", "d"}) l.paths[dir.write(std::string("many/") + f, "x")] = read();
    const LearnedPolicy lp = learned_policy(policy::default_policy(), l, self());
    EXPECT_TRUE(has(lp.policy, file, PathMode::ReadOnly));
    EXPECT_TRUE(has(lp.policy, d + "/out", PathMode::ReadWrite));
    EXPECT_TRUE(has(lp.policy, d + "/many", PathMode::ReadOnly));    // four files: the directory
    EXPECT_FALSE(has(lp.policy, d + "/many/a", PathMode::ReadOnly));  // ...and not each of them
    for (const auto& r : lp.policy.allowed_paths) {
        EXPECT_NE(r.path, d + "/never-made");
        EXPECT_NE(r.path.rfind("/proc", 0), 0u) << r.path;
        EXPECT_NE(r.path, "/tmp");
    }
    // What the base grants already is not repeated.
    const auto usr = std::count_if(lp.policy.allowed_paths.begin(), lp.policy.allowed_paths.end(),
                                   [](const PathRule& r) { return r.path == "/usr"; });
    EXPECT_LE(usr, 1);
    EXPECT_NO_THROW(policy::parse_policy(policy::to_json(lp.policy).dump(), "learned"));
}

// What the base's system view shows or writes is never granted from the host: the
// host's /etc/passwd would replace the sandbox's own (whoami then named the host's
// account for uid 65534), and four files read in /etc must not grant all of it.
TEST(LearnedPolicy, TheSystemViewIsNotGrantedAgain) {
    helper::Learned l;
    for (const char* f : {"/etc/passwd", "/etc/group", "/etc/hostname", "/etc/nsswitch.conf", "/etc/ld.so.cache"})
        l.paths[f] = read();
    policy::Policy base = policy::default_policy();
    ASSERT_TRUE(base.system_view);
    const LearnedPolicy lp = learned_policy(base, l, self());
    for (const auto& r : lp.policy.allowed_paths) EXPECT_NE(r.path.rfind("/etc", 0), 0u) << r.path;
    // Without the view, the host's files are what the run read: granted.
    base.system_view = false;
    const LearnedPolicy without = learned_policy(base, l, self());
    EXPECT_TRUE(has(without.policy, "/etc", PathMode::ReadOnly) || has(without.policy, "/etc/passwd", PathMode::ReadOnly));
}

// A write the sandbox's identity could never make on the host is not granted.
TEST(LearnedPolicy, NoRwWhereTheSandboxCannotWrite) {
    test::TempDir dir;
    const std::string locked = dir.path() + "/locked";
    ASSERT_EQ(::mkdir(locked.c_str(), 0755), 0);
    helper::Learned l;
    l.paths[locked + "/cache.pyc"] = created();
    const helper::HostIds other{::getuid() + 1000, ::getgid() + 1000};
    const LearnedPolicy lp = learned_policy(policy::default_policy(), l, other);
    EXPECT_FALSE(has(lp.policy, locked, PathMode::ReadWrite));
    EXPECT_TRUE(has(learned_policy(policy::default_policy(), l, self()).policy, locked, PathMode::ReadWrite));
}

TEST(LearnedPolicy, ALinkGrantsItsTarget) {
    test::TempDir dir;
    const std::string target = dir.write("target.txt", "x");
    const std::string link = dir.path() + "/link";
    ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
    helper::Learned l;
    l.paths[link] = read();
    const LearnedPolicy lp = learned_policy(policy::default_policy(), l, self());
    EXPECT_TRUE(has(lp.policy, link, PathMode::ReadOnly));
    EXPECT_TRUE(has(lp.policy, target, PathMode::ReadOnly));
}

TEST(LearnedPolicy, CallsBeyondTheBase) {
    helper::Learned l;
    l.refused_calls = {{"fchown", 2}, {"getppid", 1}, {"ptrace", 1}};
    const policy::Policy deny = policy::parse_policy(R"({"blocked_syscalls": ["@chown", "getppid", "chmod"]})", "base");
    const LearnedPolicy lp = learned_policy(deny, l, self());
    // The group gives way to its other members; the named call goes; ptrace (default deny) stays.
    EXPECT_EQ(std::count(lp.policy.blocked_syscalls.begin(), lp.policy.blocked_syscalls.end(), "fchown"), 0);
    EXPECT_EQ(std::count(lp.policy.blocked_syscalls.begin(), lp.policy.blocked_syscalls.end(), "chown"), 1);
    EXPECT_EQ(std::count(lp.policy.blocked_syscalls.begin(), lp.policy.blocked_syscalls.end(), "getppid"), 0);
    EXPECT_EQ(std::count(lp.policy.blocked_syscalls.begin(), lp.policy.blocked_syscalls.end(), "chmod"), 1);
    ASSERT_EQ(lp.still_refused.size(), 1u);
    EXPECT_EQ(lp.still_refused[0].rfind("ptrace", 0), 0u) << lp.still_refused[0];
    EXPECT_TRUE(lp.policy.default_deny);
    EXPECT_NO_THROW(policy::parse_policy(policy::to_json(lp.policy).dump(), "learned"));

    const policy::Policy allow = policy::parse_policy(R"({"allowed_syscalls": ["execve", "exit_group"]})", "base");
    const LearnedPolicy la = learned_policy(allow, l, self());
    ASSERT_TRUE(la.policy.allowed_syscalls);
    for (const char* call : {"fchown", "getppid"})
        EXPECT_EQ(std::count(la.policy.allowed_syscalls->begin(), la.policy.allowed_syscalls->end(), call), 1) << call;
    // The default deny set is not lifted through an allow-list either.
    EXPECT_EQ(std::count(la.policy.allowed_syscalls->begin(), la.policy.allowed_syscalls->end(), "ptrace"), 0);
    EXPECT_EQ(la.still_refused.size(), 1u);
}

}  // namespace
}  // namespace aj::runner
