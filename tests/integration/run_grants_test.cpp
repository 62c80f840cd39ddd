// `run`'s quick grants (--bind, --ro-bind, --network, --memory, --cpus, --pids) and the
// hints after a failed run that name what the sandbox could not see.
#include <sys/stat.h>

#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/jail.hpp"

namespace aj::test {
namespace {

nlohmann::json last_line_json(const std::string& out) {
    std::string text = out;
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return nlohmann::json::parse(text.substr(text.rfind('\n') + 1));
}

TEST(RunGrants, RoBindShowsSourceAtTargetReadOnly) {
    TempDir dir;
    dir.write("data", "hello\n");
    auto r = run_aj({"run", "--ro-bind", dir.path() + ":/data", "--", "/bin/sh", "-c",
                     "cat /data/data; (echo x > /data/new) 2>/dev/null && echo WROTE; echo end"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "hello\nend\n");
    EXPECT_FALSE(std::filesystem::exists(dir.path() + "/new"));
}

TEST(RunGrants, BindIsWritableAtItsOwnPath) {
    TempDir dir;
    ::chmod(dir.path().c_str(), 0777);  // a root caller's sandbox runs as its leased uid
    auto r = run_aj({"run", "--bind", dir.path(), "--", "/bin/sh", "-c", "echo x > " + dir.path() + "/new"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(std::filesystem::exists(dir.path() + "/new"));
}

TEST(RunGrants, MissingSourceIsNamed) {
    auto r = run_aj({"run", "--ro-bind", "/nonexistent-aj-src:/x", "--", "/bin/true"});
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_NE(r.err.find("--ro-bind /nonexistent-aj-src:/x: /nonexistent-aj-src does not exist on the host (ENOENT)"),
              std::string::npos)
        << r.err;
}

TEST(RunGrants, LimitsOnlyTighten) {
    auto r = run_aj({"run", "--memory", "4096", "--", "/bin/true"});
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_NE(r.err.find("max_memory_mb 512"), std::string::npos) << r.err;
    r = run_aj({"run", "--pids", "100000", "--", "/bin/true"});
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_NE(r.err.find("--pids 100000 exceeds the policy's max_pids 256"), std::string::npos) << r.err;
    r = run_aj({"run", "--cpus", "2", "--", "/bin/true"});
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_NE(r.err.find("--cpus 2 exceeds the policy's max_cpus 1"), std::string::npos) << r.err;
}

TEST(RunGrants, ShownInTheReport) {
    TempDir dir;
    auto r = run_aj({"run", "--json", "--pids", "8", "--cpus", "0.5", "--memory", "128", "--network", "host",
                     "--ro-bind", dir.path(), "--", "/bin/true"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto report = last_line_json(r.out);
    const auto& grants = report.at("command_line_grants");
    EXPECT_EQ(grants.at("max_pids"), 8);
    EXPECT_EQ(grants.at("max_cpus"), 0.5);
    EXPECT_EQ(grants.at("max_memory_mb"), 128);
    EXPECT_EQ(grants.at("network"), "host");
    EXPECT_EQ(grants.at("binds").at(0).at("source"), dir.path());
    EXPECT_EQ(grants.at("binds").at(0).at("mode"), "ro");
    // What was enforced follows: the lower pids limit, and no network namespace.
    EXPECT_EQ(report.at("enforced").at("limits").at("pids").at("value"), 8) << report.dump();
    for (const auto& ns : report.at("enforced").at("namespaces")) EXPECT_NE(ns, "net");
}

TEST(RunHints, CommandOutsideThePolicyIsNamed) {
    TempDir dir;
    const std::string tool = dir.write("tool", "#!/bin/sh\necho hi\n", 0755);
    auto r = run_aj({"run", "--", tool});
    EXPECT_EQ(r.exit_code, 127);
    EXPECT_NE(r.err.find("aurora-jail: hint: " + tool + " is not visible in the sandbox; grant it with allowed_paths "
                         "or --ro-bind " + dir.path()),
              std::string::npos)
        << r.err;
    // Granted, it runs, and no hint is given.
    r = run_aj({"run", "--ro-bind", dir.path(), "--", tool});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "hi\n");
    EXPECT_EQ(r.err.find("hint"), std::string::npos) << r.err;
}

TEST(RunHints, RelativeArgumentFromTheCallersDirectory) {
    TempDir dir;
    dir.write("script.sh", "echo ran\n");
    auto r = run_process({"/bin/sh", "-c", "cd '" + dir.path() + "' && exec '" + aj_bin() + "' run -- /bin/sh script.sh"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("aurora-jail: hint: script.sh is " + dir.path() + "/script.sh on the host, but the sandbox's "
                         "working directory is /; run with --workdir " + dir.path()),
              std::string::npos)
        << r.err;
}

}  // namespace
}  // namespace aj::test
