// `aurora-jail check`: its verdict agrees with what the host really allows, both on this
// host and on one where namespace creation is refused by a seccomp filter.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/integration/fallback_no_userns.hpp"
#include "tests/support/process.hpp"

namespace {

nlohmann::json check_json(const std::vector<std::string>& argv, int* exit_code) {
    auto r = aj::test::run_process(argv);
    *exit_code = r.exit_code;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "stdout: " << r.out << "\nstderr: " << r.err;
    return j;
}

}  // namespace

TEST(Check, JsonVerdictMatchesExitStatus) {
    int rc = -1;
    auto j = check_json({aj::test::aj_bin(), "check", "--json"}, &rc);
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(rc, j["full_isolation"].get<bool>() ? 0 : 1);
    std::string mode = j["mode"];
    EXPECT_TRUE(mode == "namespaces" || mode == "rlimit-only") << mode;
    for (const char* ns : {"user", "mount", "pid", "net"}) EXPECT_TRUE(j["namespaces"].contains(ns)) << ns;
    EXPECT_TRUE(j["landlock"].contains("abi"));
    EXPECT_TRUE(j["cgroups"].contains("memory"));
    EXPECT_TRUE(j["cgroups"].contains("layout"));
    // The probe's cgroups are gone again.
    EXPECT_FALSE(j["cgroups"].contains("directories"));
}

TEST(Check, TableNamesEveryFeature) {
    auto r = aj::test::run_aj({"check"});
    EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err;
    for (const char* word : {"user namespace", "seccomp filter", "landlock", "cgroups", "memory limit", "mode"})
        EXPECT_NE(r.out.find(word), std::string::npos) << word << " missing from:\n" << r.out;
}

TEST(Check, RefusedNamespacesMeanRlimitOnlyAndExit1) {
    int rc = -1;
    auto j = check_json(aj::test::without_namespaces({aj::test::aj_bin(), "check", "--json"}), &rc);
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(rc, 1);
    EXPECT_EQ(j["mode"], "rlimit-only");
    EXPECT_EQ(j["full_isolation"], false);
    EXPECT_EQ(j["namespaces"]["user"]["ok"], false);
    EXPECT_EQ(j["namespaces"]["user"]["errno"], "EPERM");
    EXPECT_NE(j["namespaces"]["user"]["reason"].get<std::string>().find("seccomp"), std::string::npos)
        << j["namespaces"]["user"].dump();
}

// `check` says, limit by limit, how a run by this user would hold it; a run of the
// built-in policy then does exactly that (issue 12: check agrees with run), in both modes.
TEST(Check, LimitScopesAgreeWithWhatARunEnforces) {
    for (const bool fallback : {false, true}) {
        auto wrap = [&](std::vector<std::string> argv) {
            return fallback ? aj::test::without_namespaces(std::move(argv)) : argv;
        };
        int rc = -1;
        auto j = check_json(wrap({aj::test::aj_bin(), "check", "--json"}), &rc);
        ASSERT_TRUE(j.is_object());
        const nlohmann::json& limits = j["limits"];
        for (const char* key : {"max_memory_mb", "max_cpus", "max_pids", "max_cpu_sec", "max_open_files",
                                "max_file_size_mb", "max_tmpfs_mb", "timeout_sec"}) {
            ASSERT_TRUE(limits.contains(key)) << key << " missing: " << limits.dump();
            const std::string scope = limits[key]["scope"];
            EXPECT_TRUE(scope == "total" || scope == "per process" || scope == "approximate" || scope == "not enforced")
                << key << ": " << scope;
        }
        aj::test::TempDir dir;
        const std::string report = dir.path() + "/report.json";
        auto r = aj::test::run_process(wrap({aj::test::aj_bin(), "run", "--report", report, "--", "true"}));
        ASSERT_EQ(r.exit_code, 0) << r.err;
        std::ifstream in(report);
        const nlohmann::json ran = nlohmann::json::parse(in)["enforced"]["limits"];
        auto run_backend = [&](const char* key) { return ran.at(key).value("backend", ""); };
        auto starts = [](const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; };
        EXPECT_EQ(starts(limits["max_memory_mb"]["mechanism"], "cgroup"), starts(run_backend("memory_mb"), "cgroup"))
            << "fallback " << fallback << ": check " << limits["max_memory_mb"].dump() << " run " << ran["memory_mb"].dump();
        EXPECT_EQ(limits["max_cpus"]["scope"] == "not enforced", run_backend("cpus") == "none")
            << "fallback " << fallback << ": check " << limits["max_cpus"].dump() << " run " << ran["cpus"].dump();
        EXPECT_EQ(limits["max_pids"]["scope"] == "approximate", run_backend("pids").find("approximate") != std::string::npos)
            << "fallback " << fallback << ": check " << limits["max_pids"].dump() << " run " << ran["pids"].dump();
    }
}
