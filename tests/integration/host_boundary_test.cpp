// Issue 11's host boundary: what a sandbox leaves or reaches on the host. Set-uid
// planting (refused inside, nothing set-id left, the run directory closed to other
// users), the state directory's permissions, staging that never widens a file's
// permissions, the run report on a channel the sandbox cannot forge, and PID 1 showing
// nothing of the host. Runs as root and again as uid 65534 (tests/as_nobody.sh).
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/integration/plugin_support.hpp"
#include "tests/support/process.hpp"

namespace aj::test {
namespace {

namespace fs = std::filesystem;

constexpr uid_t kOtherUid = 23456;  // a local user who is neither the caller nor a sandbox

// Runs `body` as kOtherUid (no groups) in a child; its return value is the exit code.
// Only root can switch: callers skip that part otherwise.
int as_other_user(const std::function<int()>& body) {
    pid_t pid = ::fork();
    if (pid == 0) {
        if (::setgroups(0, nullptr) != 0 || ::setresgid(kOtherUid, kOtherUid, kOtherUid) != 0 ||
            ::setresuid(kOtherUid, kOtherUid, kOtherUid) != 0)
            ::_exit(99);
        ::_exit(body());
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// errno of open(path) as the other user, or 0 when it opened.
int other_user_open_errno(const std::string& path, int flags) {
    return as_other_user([path, flags] {
        int fd = ::open(path.c_str(), flags | O_CLOEXEC);
        if (fd >= 0) return 0;
        return errno;
    });
}

mode_t mode_of(const std::string& path) {
    struct stat st{};
    if (::lstat(path.c_str(), &st) != 0) return 0;
    return st.st_mode & 07777;
}

// The parent of a TempDir is private to us; another user must at least be able to try.
void open_for_traversal(const PluginEnv& env) { ::chmod(env.tmp.path().c_str(), 0755); }

class HostBoundary : public SandboxedPluginTest {};

// 1. The planting sequence of the issue fails inside, nothing set-id is left in the run
// directory, and another local user cannot reach that directory at all.
TEST_F(HostBoundary, SetuidPlantingIsRefusedAndTheRunDirIsClosed) {
    open_for_traversal(env);
    env.stage("acme.testpkg");
    const std::string script =
        "cp /usr/bin/id /work/id; chmod 4755 /work/id; echo chmod=$?; chmod g+s /work/id; echo chmodg=$?; "
        "install -m 4755 /usr/bin/id /work/id2; echo install=$?; mkdir -m 2775 /work/d; echo mkdir=$?; "
        "chmod 755 /work; echo done";
    auto r = env.aj({"run", "--plugin", "acme.testpkg", "--json", "--", "/bin/sh", "-c", script});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("chmod=1\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("chmodg=1\n"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("install=0\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("mkdir=1\n"), std::string::npos) << r.out;
    const std::string last = r.out.substr(r.out.rfind('\n', r.out.size() - 2) + 1);
    const std::string run_dir = nlohmann::json::parse(last).at("run_dir");
    for (auto it = fs::recursive_directory_iterator(run_dir); it != fs::recursive_directory_iterator(); ++it) {
        struct stat st{};
        ASSERT_EQ(::lstat(it->path().c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & (S_ISUID | S_ISGID), 0u) << it->path() << " mode " << std::oct << st.st_mode;
        // overlayfs's scratch (its inner work/ is mode 0): the sandbox cannot write there.
        if (it->path() == run_dir + "/overlay-work") it.disable_recursion_pending();
    }
    // Only the owner, and a root caller's sandbox group, may enter the run directory.
    struct stat st{};
    ASSERT_EQ(::stat(run_dir.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07, 0u) << std::oct << st.st_mode;
    if (running_as_root()) {
        EXPECT_EQ(st.st_mode & 07777, 0710u);
        // The group is the run's own leased gid, which nobody else has.
        EXPECT_EQ(st.st_gid, nlohmann::json::parse(last).at("host_gid").get<gid_t>());
        EXPECT_NE(st.st_gid, 65534u);
        EXPECT_EQ(other_user_open_errno(run_dir + "/work/id", O_RDONLY), EACCES);
        EXPECT_EQ(other_user_open_errno(run_dir + "/work", O_RDONLY | O_DIRECTORY), EACCES);
    } else {
        EXPECT_EQ(st.st_mode & 07777, 0700u);
    }
}

// 5. Nothing in the state directory can be opened by another user: directories 0700
// (0711/0710 where a sandbox uid must pass), locks and records 0600.
TEST_F(HostBoundary, StateDirectoryIsClosedToOtherUsers) {
    open_for_traversal(env);
    env.stage("acme.testpkg");
    auto r = env.aj({"run", "--plugin", "acme.testpkg", "--", "/bin/true"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string in_use = env.state + "/plugins/.in-use-acme.testpkg";
    ASSERT_TRUE(fs::exists(in_use));
    const std::string package = env.state + "/plugins/acme.testpkg";
    for (auto it = fs::recursive_directory_iterator(env.state); it != fs::recursive_directory_iterator(); ++it) {
        const std::string p = it->path();
        if (p == package) {
            it.disable_recursion_pending();  // the staged package keeps its source's bits
            continue;
        }
        if ((it->path().filename() == "work" || it->path().filename() == "overlay-work") &&
            it->path().parent_path().parent_path() == env.state + "/runs") {
            // The sandbox's own files, and overlayfs's scratch (the kernel makes its inner
            // work/ mode 0): the directory itself is checked, not what is inside.
            EXPECT_EQ(mode_of(p), 0700u) << p;
            it.disable_recursion_pending();
            continue;
        }
        const mode_t m = mode_of(p);
        if (it->is_symlink()) continue;
        if (it->is_directory())
            EXPECT_TRUE(m == 0700 || m == 0710 || m == 0711) << p << " mode " << std::oct << m;
        else
            EXPECT_EQ(m & 077, 0u) << p << " mode " << std::oct << m;
    }
    if (!running_as_root()) GTEST_SKIP() << "modes checked; opening as another uid needs root";
    // The lock DoS: another user holding a shared flock on .in-use-ID forever.
    EXPECT_EQ(other_user_open_errno(in_use, O_RDONLY), EACCES);
}

// 5. A state directory left by an older version (0644 locks and records, 0711 run
// directories) is brought to today's permissions the first time it is used.
TEST_F(HostBoundary, OlderStateDirectoryIsTightened) {
    env.stage("acme.testpkg");
    auto r = env.aj({"run", "--plugin", "acme.testpkg", "--", "/bin/true"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string in_use = env.state + "/plugins/.in-use-acme.testpkg";
    std::string run_dir;
    for (const auto& e : fs::directory_iterator(env.state + "/runs")) run_dir = e.path();
    ASSERT_FALSE(run_dir.empty());
    // What an older aurora-jail left.
    ASSERT_EQ(::chmod(in_use.c_str(), 0644), 0);
    ASSERT_EQ(::chmod(run_dir.c_str(), 0711), 0);
    const std::string record = run_dir + "/record.json";
    env.tmp.write("state/runs/" + fs::path(run_dir).filename().string() + "/record.json", "{}\n", 0644);
    ASSERT_EQ(::unlink((env.state + "/.permissions").c_str()), 0);
    r = env.aj({"plugins"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(mode_of(in_use), 0600u);
    EXPECT_EQ(mode_of(record), 0600u);
    // An ended run's directory is closed to every other uid, its sandbox's group included.
    EXPECT_EQ(mode_of(run_dir), 0700u);
}

// 9. Staging never makes a file more readable than its source, and refuses hard links
// to files the package's owner does not own.
TEST(HostBoundaryStaging, NeverWidensPermissions) {
    PluginEnv env;
    env.tmp.write("pkg/manifest.json", R"({"id":"acme.modes","name":"T","version":"1","entrypoint":"run.sh"})");
    env.tmp.write("pkg/run.sh", "#!/bin/sh\n", 0700);
    env.tmp.write("pkg/private.txt", "p\n", 0600);
    env.tmp.write("pkg/group.txt", "g\n", 0640);
    env.tmp.write("pkg/open.txt", "o\n", 0644);
    std::string shadow_like;
    if (running_as_root()) {
        // 0640 with a group the stager (root:root) is not: the copy's group is root's,
        // so the group bits go (the issue's `0640 root:shadow` file).
        shadow_like = env.tmp.write("pkg/shadow.txt", "s\n", 0640);
        ASSERT_EQ(::chown(shadow_like.c_str(), 0, 42), 0);
    }
    auto r = env.aj({"stage", env.pkg});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string staged = env.state + "/plugins/acme.modes/";
    EXPECT_EQ(mode_of(staged + "run.sh"), 0700u);
    EXPECT_EQ(mode_of(staged + "private.txt"), 0600u);
    EXPECT_EQ(mode_of(staged + "group.txt"), 0640u);
    EXPECT_EQ(mode_of(staged + "open.txt"), 0644u);
    if (!shadow_like.empty()) {
        EXPECT_EQ(mode_of(staged + "shadow.txt"), 0600u);
    }
}

TEST(HostBoundaryStaging, RefusesHardLinksToAnotherOwnersFile) {
    if (!running_as_root())
        GTEST_SKIP() << "needs a file of another uid to link (protected_hardlinks keeps an ordinary user from it)";
    PluginEnv env;
    env.tmp.write("pkg/manifest.json", R"({"id":"acme.links","name":"T","version":"1","entrypoint":"run.sh"})");
    env.tmp.write("pkg/run.sh", "#!/bin/sh\n", 0755);
    const std::string foreign = env.tmp.write("foreign-secret", "secret\n", 0640);
    ASSERT_EQ(::chown(foreign.c_str(), kOtherUid, 42), 0);
    ASSERT_EQ(::link(foreign.c_str(), (env.pkg + "/secret").c_str()), 0);
    auto r = env.aj({"stage", env.pkg});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("secret"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("hard link"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(env.state + "/plugins/acme.links"));
}

// 7. --report-fd: the report on a descriptor the sandbox never has; --json: the last
// line of stdout is the real report whatever the command printed.
TEST_F(HostBoundary, ReportFdCannotBeForged) {
    const std::string out = env.tmp.path() + "/report.out";
    const std::string forged = R"({"exit_code": 0, "forged": true})";
    const std::string script = "echo '" + forged + "'; echo '" + forged + "' >&3 && echo WROTE3; exit 7";
    auto r = run_process({"/bin/sh", "-c", "exec \"$0\" run --report-fd 3 -- /bin/sh -c \"$1\" 3>\"$2\"", aj_bin(),
                          script, out});
    EXPECT_EQ(r.exit_code, 7) << r.err;
    EXPECT_EQ(r.out.find("WROTE3"), std::string::npos) << r.out;
    const std::string text = slurp(out);
    ASSERT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
    auto j = nlohmann::json::parse(text);
    EXPECT_EQ(j.at("exit_code"), 7);
    EXPECT_FALSE(j.contains("forged"));
    // The command's own stream as the report descriptor: refused, nothing runs.
    r = run_process({"/bin/sh", "-c", "exec \"$0\" run --report-fd 3 -- /bin/echo RAN 3>&1", aj_bin()});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_EQ(r.out.find("RAN"), std::string::npos);
    EXPECT_NE(r.err.find("--report-fd 3"), std::string::npos) << r.err;
}

TEST_F(HostBoundary, JsonLastLineIsTheRealReport) {
    for (const char* tail : {"\\n", ""}) {  // a fake report with and without its newline
        const std::string script = std::string("printf '{\"exit_code\": 0, \"forged\": true}") + tail + "'; exit 3";
        auto r = run_aj({"run", "--json", "--", "/bin/sh", "-c", script});
        EXPECT_EQ(r.exit_code, 3) << r.err;
        ASSERT_FALSE(r.out.empty());
        std::string body = r.out.substr(0, r.out.size() - 1);  // `tail -n1`
        const std::string last = body.substr(body.rfind('\n') + 1);
        auto j = nlohmann::json::parse(last);
        EXPECT_EQ(j.at("exit_code"), 3) << r.out;
        EXPECT_FALSE(j.contains("forged")) << r.out;
    }
}

// 8. PID 1 shows nothing of the runner's host command line or environment.
TEST_F(HostBoundary, Pid1ShowsNothingOfTheHost) {
    const std::string policy = env.tmp.write("host-only-policy-name.json", "{}\n");
    auto r = run_process({aj_bin(), "run", "--policy", policy, "--", "/bin/cat", "/proc/1/cmdline", "/proc/1/comm"},
                         "", {"AJ_HOST_ONLY_MARKER=host-secret-value"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, std::string("aurora-init\0aurora-init\n", 24));
    EXPECT_EQ(r.out.find("host-only-policy-name"), std::string::npos);
    r = run_process({aj_bin(), "run", "--policy", policy, "--", "/bin/sh", "-c",
                     "cat /proc/1/environ 2>/dev/null | tr -d '\\0'; echo end"},
                    "", {"AJ_HOST_ONLY_MARKER=host-secret-value"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "end\n");
}

}  // namespace
}  // namespace aj::test
