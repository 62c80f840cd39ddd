// `aurora-jail run --plugin`: the entrypoint or a given command runs in a fresh run
// directory (/work, rw, the cwd, starting with the package's files) with the staged
// package read-only at /plugin.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/integration/plugin_support.hpp"

namespace fs = std::filesystem;
using aj::test::PluginEnv;

namespace {
class PluginRun : public aj::test::SandboxedPluginTest {};
}  // namespace

TEST_F(PluginRun, RunsTheEntrypointInItsOwnRunDirectory) {
    env.stage("acme.testpkg");
    auto r = env.aj({"run", "--plugin", "acme.testpkg"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "hello-sandbox\ncwd=/work\n");
}

TEST_F(PluginRun, PackageIsReadOnlyAndNothingComesBack) {
    env.stage("acme.testpkg");
    const std::string script =
        "echo out > /work/result; echo evil > /plugin/run.sh && echo W\"\"ROTE; "
        "touch /plugin/new && echo C\"\"REATED; cat /plugin/manifest.json >/dev/null && echo R\"\"EAD";
    auto r = env.aj({"run", "--plugin", "acme.testpkg", "--json", "--", "/bin/sh", "-c", script});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.find("WROTE"), std::string::npos);
    EXPECT_EQ(r.out.find("CREATED"), std::string::npos);
    EXPECT_NE(r.out.find("READ"), std::string::npos);
    std::string staged = env.state + "/plugins/acme.testpkg";
    EXPECT_EQ(aj::test::slurp(staged + "/run.sh"), "#!/bin/sh\necho hello-sandbox\necho \"cwd=$(pwd)\"\n");
    EXPECT_FALSE(fs::exists(staged + "/new"));
    EXPECT_FALSE(fs::exists(staged + "/result"));
    // The report names the run directory; its work/ holds what the plugin wrote.
    auto line = r.out.substr(r.out.find('{'));
    auto report = nlohmann::json::parse(line.substr(0, line.find('\n')));
    ASSERT_TRUE(report.contains("run_dir")) << line;
    EXPECT_EQ(aj::test::slurp(report["run_dir"].get<std::string>() + "/work/result"), "out\n");
    EXPECT_EQ(report["plugin"], "acme.testpkg");
}

TEST_F(PluginRun, EachRunGetsAFreshDirectory) {
    env.stage("acme.testpkg");
    for (int i = 0; i < 2; ++i) {
        auto r = env.aj({"run", "--plugin", "acme.testpkg", "--", "/bin/sh", "-c", "ls -A /work; echo x > /work/f"});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        EXPECT_EQ(r.out, "manifest.json\nrun.sh\n");  // the package's files, never the last run's f
    }
}

TEST_F(PluginRun, RmRemovesTheRunDirectory) {
    env.stage("acme.testpkg");
    auto r = env.aj({"run", "--plugin", "acme.testpkg", "--rm", "--", "/bin/sh", "-c", "echo x > /work/f"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(env.files(env.state + "/runs").empty());
}

TEST_F(PluginRun, ExitStatusAndArgvEntrypoint) {
    env.stage("argvpkg", R"(["/bin/sh", "-c", "echo argv-entry; exit 7"])");
    auto r = env.aj({"run", "--plugin", "argvpkg"});
    EXPECT_EQ(r.exit_code, 7) << r.err;
    EXPECT_EQ(r.out, "argv-entry\n");
}

TEST_F(PluginRun, WordsAfterDoubleDashAreNeverRunOptions) {
    env.stage("acme.testpkg");
    // What the host daemon passes after "--" comes from requests: it must stay the command.
    auto r = env.aj({"run", "--plugin", "acme.testpkg", "--", "--workdir", "/", "/bin/echo", "hi"});
    EXPECT_EQ(r.exit_code, 127) << r.out << r.err;
    EXPECT_NE(r.err.find("--workdir"), std::string::npos) << r.err;
}

TEST(PluginCli, UnknownPluginIsAnError) {
    PluginEnv env;
    auto r = env.aj({"run", "--plugin", "nope", "--", "/bin/true"});
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_NE(r.err.find("unknown plugin nope"), std::string::npos) << r.err;
    r = env.aj({"run", "--plugin", "../etc", "--", "/bin/true"});
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_NE(r.err.find("not a safe name"), std::string::npos) << r.err;
}

TEST_F(PluginRun, PluginPolicyIsApplied) {
    // A policy that binds an extra directory read-write: visible only under that policy.
    std::string shared = env.tmp.path() + "/shared";
    fs::create_directory(shared);
    ::chmod(shared.c_str(), 0777);
    fs::create_directories(env.state + "/policies");
    env.tmp.write("state/policies/withshared.json",
                  R"({"allowed_paths": ["/usr", "/bin", "/lib", "/lib64", {"path": ")" + shared + R"(", "mode": "rw"}]})");
    env.stage("polpkg", "\"run.sh\"", R"(, "policy": "withshared")");
    auto r = env.aj({"run", "--plugin", "polpkg", "--", "/bin/sh", "-c", "echo hi > " + shared + "/x"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(aj::test::slurp(shared + "/x"), "hi\n");
    // A policy name that does not exist is refused before anything runs.
    env.stage("badpol", "\"run.sh\"", R"(, "policy": "missing")");
    r = env.aj({"run", "--plugin", "badpol"});
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_NE(r.err.find("missing"), std::string::npos) << r.err;
}

TEST(PluginCli, StagePluginsUnstage) {
    PluginEnv env;
    env.stage("acme.testpkg");
    auto r = env.aj({"plugins", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto list = nlohmann::json::parse(r.out);
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0]["id"], "acme.testpkg");
    // A refused package: an escaping symlink.
    fs::create_symlink("../../outside", env.pkg + "/evil");
    r = env.aj({"stage", env.pkg});
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_NE(r.err.find("points outside the package"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.rfind("aurora-jail: ", 0), 0u);
    r = env.aj({"unstage", "acme.testpkg"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    r = env.aj({"plugins"});
    EXPECT_EQ(r.out, "");
}
