// `aurora-jail policy ...` end to end through the real binary.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "policy/policy_dirs.hpp"
#include "tests/support/process.hpp"

namespace aj::test {
namespace {

const char* kPrototype = R"({"allowed_paths": ["/usr", "/lib"], "blocked_syscalls": ["ptrace", "mount"],
 "max_memory_mb": 256, "max_cpu_sec": 10})";

TEST(PolicyCli, ValidateAcceptsGoodFiles) {
    TempDir dir;
    std::string a = dir.write("a.json", kPrototype);
    std::string b = dir.write("b.json", "{}");
    auto r = run_aj({"policy", "validate", a, b});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, a + ": ok\n" + b + ": ok\n");
    EXPECT_EQ(r.err, "");
}

TEST(PolicyCli, ValidateRejectsWithOneLineAnd125) {
    TempDir dir;
    std::string bad = dir.write("bad.json", R"({"max_memory_mb": -5})");
    auto r = run_aj({"policy", "validate", bad});
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_EQ(r.err, "aurora-jail: " + bad + ": /max_memory_mb: expected a non-negative integer or null, got -5\n");
    std::string typo = dir.write("typo.json", "{\n \"max_memry_mb\": 1}");
    r = run_aj({"policy", "validate", typo});
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_EQ(r.err, "aurora-jail: " + typo + ": /max_memry_mb: unknown key (did you mean max_memory_mb?)\n");
    std::string broken = dir.write("broken.json", "{\n  \"max_pids\": 1,,\n}");
    r = run_aj({"policy", "validate", broken});
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_EQ(r.err.rfind("aurora-jail: " + broken + ": not valid JSON at line 2, column 17: syntax error", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
    r = run_aj({"policy", "validate", dir.path() + "/missing.json"});
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_EQ(r.err, "aurora-jail: reading policy " + dir.path() + "/missing.json: ENOENT (No such file or directory)\n");
}

TEST(PolicyCli, ShowPrintsNormalisedPolicy) {
    auto r = run_aj({"policy", "show"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["max_memory_mb"], 512);
    EXPECT_EQ(j["network"], "none");
    EXPECT_EQ(j["max_cpus"], 1.0);  // the default caps CPU bandwidth at one core
    EXPECT_EQ(j["blocked_action"]["errno"], "EPERM");

    TempDir dir;
    std::string f = dir.write("p.json", kPrototype);
    r = run_aj({"policy", "show", f});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["max_memory_mb"], 256);
    EXPECT_EQ(j["allowed_paths"][1]["path"], "/lib");
    EXPECT_EQ(j["allowed_paths"][1]["mode"], "ro");
    EXPECT_EQ(j["max_pids"], 256);
    // The output is itself a valid policy meaning the same thing.
    std::string again = dir.write("again.json", r.out);
    auto r2 = run_aj({"policy", "show", again});
    EXPECT_EQ(r2.out, r.out);
}

TEST(PolicyCli, CompilePrintsPseudoCodeAndWritesBpf) {
    TempDir dir;
    std::string f = dir.write("p.json", kPrototype);
    std::string bpf = dir.path() + "/p.bpf";
    auto r = run_aj({"policy", "compile", f, "--bpf", bpf});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("filter for syscall \"ptrace\""), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("filter for syscall \"fsopen\""), std::string::npos);
    EXPECT_NE(r.out.find("action KILL_PROCESS"), std::string::npos);
    struct stat st {};
    ASSERT_EQ(stat(bpf.c_str(), &st), 0);
    EXPECT_GT(st.st_size, 0);
    EXPECT_EQ(st.st_size % 8, 0) << "whole struct sock_filter records";
}

TEST(PolicyCli, WriteListShowRoundTrip) {
    TempDir dir;
    std::string store = dir.path() + "/store";
    ASSERT_EQ(mkdir(store.c_str(), 0755), 0);
    std::string f = dir.write("in.json", R"({"max_pids": 9})");
    auto r = run_aj({"policy", "write", "small", f, "--policy-dir", store});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, store + "/small.json\n");
    r = run_aj({"policy", "list", "--policy-dir", store});
    EXPECT_EQ(r.out, "small\n");
    r = run_aj({"policy", "show", "small", "--policy-dir", store});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out)["max_pids"], 9);

    std::string bad = dir.write("bad.json", R"({"max_pids": "x"})");
    r = run_aj({"policy", "write", "small", bad, "--policy-dir", store});
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_EQ(r.err.rfind("aurora-jail: " + bad + ": /max_pids: expected", 0), 0u) << r.err;
    r = run_aj({"policy", "write", "../evil", f, "--policy-dir", store});
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_EQ(r.err.rfind("aurora-jail: invalid policy name \"../evil\"", 0), 0u) << r.err;
    r = run_aj({"policy", "show", "absent", "--policy-dir", store});
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_EQ(r.err.rfind("aurora-jail: policy \"absent\" not found (searched: " + store, 0), 0u) << r.err;
}

TEST(PolicyCli, HelpOnEachSubcommand) {
    for (const char* sub : {"validate", "show", "compile", "write", "list"}) {
        auto r = run_aj({"policy", sub, "--help"});
        EXPECT_EQ(r.exit_code, 0) << sub;
        EXPECT_NE(r.out.find(sub), std::string::npos) << r.out;
    }
    auto r = run_aj({"policy"});
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_EQ(r.err.rfind("aurora-jail: ", 0), 0u);
}

// The per-user directory rule, for any uid: XDG first, then HOME, never for root,
// relative values ignored (the XDG spec).
TEST(PolicyDirs, UserDirectoryRule) {
    using policy::user_policy_dir;
    EXPECT_EQ(user_policy_dir(1000, "/x/cfg", "/home/u"), "/x/cfg/aurora-jail/policies");
    EXPECT_EQ(user_policy_dir(1000, nullptr, "/home/u"), "/home/u/.config/aurora-jail/policies");
    EXPECT_EQ(user_policy_dir(1000, "relative", "/home/u"), "/home/u/.config/aurora-jail/policies");
    EXPECT_EQ(user_policy_dir(1000, "", nullptr), "");
    EXPECT_EQ(user_policy_dir(0, "/x/cfg", "/root"), "");
}

// The search order: --policy-dir, $AURORA_JAIL_POLICY_DIR, (the user's,) the system one.
TEST(PolicyDirs, SearchOrderEndsWithTheSystemDirectory) {
    const auto dirs = policy::policy_search_dirs("/flag");
    ASSERT_GE(dirs.size(), 2u);
    EXPECT_EQ(dirs.front(), "/flag");
    EXPECT_EQ(dirs.back(), policy::kSystemPolicyDir);
    EXPECT_EQ(policy::policy_write_dir("/flag"), "/flag");
}

}  // namespace
}  // namespace aj::test
