// `aurora-jail learn`: the command runs once observed, the written policy validates, and
// `run --policy` with it runs the same command where the base policy could not.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "policy/parse.hpp"
#include "tests/support/jail.hpp"

namespace aj::test {
namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// The sandbox's uid must be able to reach the test's files (a root caller's sandbox runs
// as a leased uid).
void open_up(const TempDir& dir) { ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0); }

// Whether the policy grants `path` with `mode` ("ro"/"rw").
bool grants(const nlohmann::json& policy, const std::string& path, const std::string& mode) {
    for (const auto& p : policy["allowed_paths"])
        if (p["path"] == path && p["mode"] == mode) return true;
    return false;
}

// Learned policies name many paths, and learning shows the host's whole tree: a root of
// a dozen binds and more must build (the user namespace's quotas come after it).
TEST(RunLearn, APolicyOfADozenPathsRuns) {
    TempDir dir;
    open_up(dir);
    nlohmann::json paths = nlohmann::json::array();
    for (int i = 0; i < 14; ++i) {
        const std::string sub = dir.path() + "/d" + std::to_string(i);
        ASSERT_EQ(::mkdir(sub.c_str(), 0755), 0);
        paths.push_back(sub);
    }
    const std::string policy = write_policy(dir, {{"allowed_paths", paths}});
    auto r = run_aj(sh_args(policy, "ls -d " + dir.path() + "/d13"));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, dir.path() + "/d13\n");
}

TEST(RunLearn, PythonReadingAFileUnderATempDir) {
    TempDir dir;
    open_up(dir);
    const std::string data = dir.write("data.txt", "learned-content\n");
    const std::string learned = dir.path() + "/learned.json";
    const std::string script = "print(open('" + data + "').read(), end='')";
    // The base policy does not show the file.
    auto before = run_aj({"run", "--", "python3", "-c", script});
    ASSERT_NE(before.exit_code, 0) << before.out;

    auto l = run_aj({"learn", "--output", learned, "--", "python3", "-c", script});
    ASSERT_NE(l.err.find("aurora-jail learn: wrote " + learned), std::string::npos) << l.err;
    const std::string text = slurp(learned);
    EXPECT_NO_THROW(policy::parse_policy(text, learned)) << text;
    EXPECT_TRUE(grants(nlohmann::json::parse(text), data, "ro")) << text;

    auto after = run_aj({"run", "--policy", learned, "--", "python3", "-c", script});
    EXPECT_EQ(after.exit_code, 0) << after.err;
    EXPECT_EQ(after.out, "learned-content\n");
}

TEST(RunLearn, ShellScriptWritingToADirectory) {
    TempDir dir;
    open_up(dir);
    const std::string out = dir.path() + "/out";
    ASSERT_EQ(::mkdir(out.c_str(), 0777), 0);
    ASSERT_EQ(::chmod(out.c_str(), 0777), 0);
    const std::string learned = dir.path() + "/learned.json";
    const std::string script = "echo written > " + out + "/result.txt";

    auto l = run_aj({"learn", "--output", learned, "--", "/bin/sh", "-c", script});
    const std::string text = slurp(learned);
    ASSERT_FALSE(text.empty()) << l.err;
    EXPECT_NO_THROW(policy::parse_policy(text, learned)) << text;
    EXPECT_TRUE(grants(nlohmann::json::parse(text), out, "rw")) << text;

    auto after = run_aj({"run", "--policy", learned, "--", "/bin/sh", "-c", script});
    EXPECT_EQ(after.exit_code, 0) << after.err;
    EXPECT_EQ(slurp(out + "/result.txt"), "written\n");
}

// A call the base refuses is let through while learning, and the learned policy allows it.
TEST(RunLearn, CallsBeyondTheBaseAreAllowed) {
    TempDir dir;
    open_up(dir);
    const std::string base = write_policy(dir, {{"blocked_syscalls", {"getppid", "chmod"}}}, "base.json");
    const std::string learned = dir.path() + "/learned.json";
    std::vector<std::string> probe = probe_args(base, "getppid");
    // probe_args gives: run --policy BASE -- SELF --aj-probe getppid
    const auto cmd = std::find(probe.begin(), probe.end(), "--");
    ASSERT_NE(cmd, probe.end());
    std::vector<std::string> learn = {"learn", "--policy", base, "--output", learned};
    learn.insert(learn.end(), cmd, probe.end());
    auto l = run_aj(learn);
    EXPECT_EQ(l.out, "ok 1\n") << l.err;  // let through while learning
    const nlohmann::json policy = nlohmann::json::parse(slurp(learned));
    EXPECT_EQ(policy["blocked_syscalls"], nlohmann::json::array({"chmod"})) << policy.dump();

    std::vector<std::string> rerun = probe_args(learned, "getppid");
    auto r = run_aj(rerun);
    EXPECT_EQ(r.out, "ok 1\n") << r.err;
}

// Learning never lifts the default deny set: the call made is named and stays refused.
TEST(RunLearn, DefaultDenyStaysAndIsSaid) {
    TempDir dir;
    open_up(dir);
    const std::string learned = dir.path() + "/learned.json";
    auto l = run_aj({"learn", "--output", learned, "--", "/bin/sh", "-c", "unshare -U true; exit 0"});
    EXPECT_NE(l.err.find("still refused: unshare (made"), std::string::npos) << l.err;
    const nlohmann::json policy = nlohmann::json::parse(slurp(learned));
    EXPECT_EQ(policy["default_deny"], true);
}

}  // namespace
}  // namespace aj::test
