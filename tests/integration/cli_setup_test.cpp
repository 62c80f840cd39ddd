// What a newcomer meets first, end to end through the binary: `run --workdir` (a trailing
// slash, a directory the sandbox cannot write), an ordinary user's own named policies,
// and `submit --wait` when no daemon serves the queue.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/integration/plugin_support.hpp"
#include "tests/support/process.hpp"

namespace {

using aj::test::ProcessResult;
using aj::test::run_aj;
using aj::test::TempDir;

constexpr const char* kMarker = "aj-cli-setup-marker";

// The host uid a sandbox of this test's caller runs as.

// aurora-jail with `env` ("NAME=VALUE", or "-u NAME") applied through env(1), so that the
// test's own environment cannot shadow it.
ProcessResult run_aj_env(const std::vector<std::string>& env, const std::vector<std::string>& args) {
    std::vector<std::string> argv{"/usr/bin/env"};
    argv.insert(argv.end(), env.begin(), env.end());
    argv.push_back(aj::test::aj_bin());
    argv.insert(argv.end(), args.begin(), args.end());
    return aj::test::run_process(argv);
}

TEST(Workdir, NotWritableBySandboxIsRefusedBeforeTheRunNamingTheUid) {
    TempDir tmp;
    const std::string dir = tmp.path() + "/readonly";
    ASSERT_EQ(::mkdir(dir.c_str(), 0555), 0);
    ASSERT_EQ(::chmod(dir.c_str(), 0555), 0);
    ProcessResult r = run_aj({"run", "--workdir", dir, "--", "/bin/sh", "-c", std::string("echo ") + kMarker});
    EXPECT_EQ(r.exit_code, 125) << r.err;
    EXPECT_EQ(r.out.find(kMarker), std::string::npos) << "the command ran: " << r.out;
    // An ordinary caller's sandbox is the caller's uid; a root caller's is a uid leased for
    // the run, whose number the message names after it was leased.
    const std::string want = aj::test::running_as_root()
                                 ? "aurora-jail: --workdir " + dir + ": not writable by the sandbox, which runs as host uid "
                                 : "aurora-jail: --workdir " + dir + ": not writable by host uid " + std::to_string(::getuid());
    EXPECT_EQ(r.err.rfind(want, 0), 0u) << r.err;

    r = run_aj({"run", "--workdir", tmp.path() + "/missing", "--", "/bin/true"});
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_NE(r.err.find("--workdir " + tmp.path() + "/missing: ENOENT"), std::string::npos) << r.err;
}

// "--workdir /srv/out/" is the same directory as "/srv/out" (it was a setup error).
TEST(Workdir, TrailingSlashIsTheSameDirectory) {
    AJ_REQUIRE_SANDBOX();
    TempDir tmp;
    ASSERT_EQ(::chmod(tmp.path().c_str(), 0755), 0);
    const std::string dir = tmp.path() + "/out";
    ASSERT_EQ(::mkdir(dir.c_str(), 0777), 0);
    ASSERT_EQ(::chmod(dir.c_str(), 0777), 0);  // writable whatever host uid the sandbox is
    for (const std::string& spelling : {dir + "/", dir + "//", dir + "/."}) {
        ProcessResult r = run_aj({"run", "--workdir", spelling, "--", "/bin/sh", "-c", "pwd; echo x > stamp"});
        EXPECT_EQ(r.exit_code, 0) << spelling << ": " << r.err;
        EXPECT_EQ(r.out, dir + "\n") << spelling;
        struct stat st{};
        EXPECT_EQ(::stat((dir + "/stamp").c_str(), &st), 0) << spelling << ": nothing written";
        ::unlink((dir + "/stamp").c_str());
    }
}

// An ordinary user's `policy write` goes to $XDG_CONFIG_HOME/aurora-jail/policies (else
// ~/.config/...), and names are looked up there (it failed with EACCES on
// /etc/aurora-jail/policies). Root keeps the system directory: run as uid 65534 by the
// nobody.cli_setup_test rerun.
TEST(UserPolicies, WriteListShowAndRunFromTheUsersOwnDirectory) {
    if (aj::test::running_as_root())
        GTEST_SKIP() << "root stores policies in /etc/aurora-jail/policies; the uid 65534 rerun covers this";
    TempDir tmp;
    const std::string policy = tmp.write("mine.json", R"({"max_pids": 9})");
    const std::string config = tmp.path() + "/config";
    const std::vector<std::string> env{"-u", "AURORA_JAIL_POLICY_DIR", "XDG_CONFIG_HOME=" + config};

    ProcessResult r = run_aj_env(env, {"policy", "write", "mine", policy});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string stored = config + "/aurora-jail/policies/mine.json";
    EXPECT_EQ(r.out, stored + "\n");
    struct stat st{};
    ASSERT_EQ(::stat((config + "/aurora-jail").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u) << "created directories are private";

    r = run_aj_env(env, {"policy", "list"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(("\n" + r.out).find("\nmine\n"), std::string::npos) << r.out;
    r = run_aj_env(env, {"policy", "show", "mine"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out)["max_pids"], 9);

    // Without XDG_CONFIG_HOME: ~/.config.
    const std::string home = tmp.path() + "/home";
    ASSERT_EQ(::mkdir(home.c_str(), 0700), 0);
    r = run_aj_env({"-u", "AURORA_JAIL_POLICY_DIR", "-u", "XDG_CONFIG_HOME", "HOME=" + home},
                   {"policy", "write", "mine", policy});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, home + "/.config/aurora-jail/policies/mine.json\n");

    if (!aj::test::sandbox_works()) return;
    r = run_aj_env(env, {"run", "--policy", "mine", "--json", "--", "/bin/true"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
}

// A state directory with its layout, as `aurora-jail host` would find it.
std::string make_state(const TempDir& tmp) {
    std::string state = tmp.path() + "/state";
    ProcessResult r = run_aj({"plugins", "--state-dir", state});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return state;
}

ProcessResult submit_wait(const std::string& state, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"submit", "--state-dir", state, "--plugin", "acme.none", "--wait"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), {"--", "/bin/true"});
    return run_aj(args);
}

// It waited for ever.
TEST(SubmitWait, NoDaemonEverIsReportedAndEnds) {
    TempDir tmp;
    const std::string state = make_state(tmp);
    ProcessResult r = submit_wait(state);
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_NE(r.err.find("stays queued, nobody serves it: no heartbeat at " + state + "/host.heartbeat"),
              std::string::npos)
        << r.err;
}

TEST(SubmitWait, DeadDaemonIsReportedAndEnds) {
    TempDir tmp;
    const std::string state = make_state(tmp);
    const pid_t dead = ::fork();
    ASSERT_GE(dead, 0);
    if (dead == 0) ::_exit(0);
    ASSERT_EQ(::waitpid(dead, nullptr, 0), dead);
    std::ofstream(state + "/host.heartbeat") << nlohmann::json{{"pid", dead}}.dump() << "\n";
    ProcessResult r = submit_wait(state);
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_NE(r.err.find("names pid " + std::to_string(dead) + ", which is not running"), std::string::npos) << r.err;
}

// A live daemon that never answers: --wait-timeout ends the wait.
TEST(SubmitWait, WaitTimeoutEndsTheWait) {
    TempDir tmp;
    const std::string state = make_state(tmp);
    std::ofstream(state + "/host.heartbeat") << nlohmann::json{{"pid", ::getpid()}}.dump() << "\n";
    ProcessResult r = submit_wait(state, {"--wait-timeout", "1"});
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_NE(r.err.find("after 1 s (--wait-timeout); it stays queued"), std::string::npos) << r.err;
}

}  // namespace
