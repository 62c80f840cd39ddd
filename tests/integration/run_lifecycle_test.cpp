// How a sandboxed run starts and ends: exit statuses, signals, timeouts, reaping, the
// sandbox dying with aurora-jail, refusing bad policies, and the run report.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/jail.hpp"

namespace aj::test {
namespace {

TEST(RunLifecycle, ExitCodePassesThrough) {
    TempDir dir;
    auto policy = write_policy(dir);
    EXPECT_EQ(run_aj(sh_args(policy, "exit 3")).exit_code, 3);
    EXPECT_EQ(run_aj(sh_args(policy, "exit 0")).exit_code, 0);
    EXPECT_EQ(run_aj(sh_args(policy, "kill -SEGV $$")).exit_code, 128 + SIGSEGV);
}

TEST(RunLifecycle, MissingCommandIs127) {
    TempDir dir;
    auto policy = write_policy(dir);
    auto r = run_aj({"run", "--policy", policy, "--", "/no/such/command"});
    EXPECT_EQ(r.exit_code, 127);
    EXPECT_EQ(r.err, "aurora-jail: /no/such/command: not found\n");
    auto p = run_aj({"run", "--policy", policy, "--", "no-such-command-in-path"});
    EXPECT_EQ(p.exit_code, 127) << p.err;
}

TEST(RunLifecycle, NonExecutableIs126) {
    TempDir dir;
    std::string file = dir.write("data.txt", "not a program\n", 0644);
    auto policy = write_policy(dir, {{"allowed_paths", {dir.path()}}});
    auto r = run_aj({"run", "--policy", policy, "--", file});
    EXPECT_EQ(r.exit_code, 126);
    EXPECT_EQ(r.err.rfind("aurora-jail: " + file + ": cannot execute: EACCES", 0), 0u) << r.err;
}

TEST(RunLifecycle, BadPolicyIs125AndStartsNothing) {
    TempDir dir, work;
    std::filesystem::permissions(work.path(), std::filesystem::perms::all);
    std::string bad = dir.write("bad.json", R"({"allowed_paths": ["/usr"], "max_memory_mb": "lots"})");
    auto r = run_aj(sh_args(bad, "touch started", {"--workdir", work.path()}));
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_EQ(r.err.rfind("aurora-jail: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find("max_memory_mb"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(work.path() + "/started"));

    auto missing = write_policy(dir, {{"allowed_paths", {"/no/such/dir"}}}, "missing.json");
    auto m = run_aj(sh_args(missing, "touch started", {"--workdir", work.path()}));
    EXPECT_EQ(m.exit_code, 125);
    EXPECT_NE(m.err.find("/no/such/dir"), std::string::npos) << m.err;
    EXPECT_FALSE(std::filesystem::exists(work.path() + "/started"));
}

TEST(RunLifecycle, TimeoutKillsQuicklyWith124) {
    TempDir dir;
    auto policy = write_policy(dir);
    // ~1.1 s on an idle machine. The bound only has to tell "killed at the timeout" from
    // "ran until the sleep ended" (60 s): far from both, as ASan and parallel tests on 2
    // cores stretch the start and the teardown several times over.
    auto start = std::chrono::steady_clock::now();
    auto r = run_aj(sh_args(policy, "sleep 60", {"--timeout", "1"}), "", 120);
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(r.exit_code, 124) << r.err;
    EXPECT_LT(took, 30.0);
}

TEST(RunLifecycle, OrphansAreReaped) {
    TempDir dir;
    auto policy = write_policy(dir);
    // The inner shell exits at once; its background child becomes PID 1's orphan and
    // exits 0.2 s later. Then wait (up to 60 s, not a fixed second that a loaded machine
    // may not honour) until the orphan is gone from /proc altogether: a zombie that PID 1
    // never reaps stays there, shows as "Z" and fails the test.
    auto r = run_aj(sh_args(policy,
                            "p=$(/bin/sh -c '/bin/sleep 0.2 >/dev/null 2>&1 & echo $!'); i=0; [ -n \"$p\" ] || echo no-pid; "
                            "while [ -n \"$p\" ] && [ -e /proc/$p ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; "
                            "cut -d' ' -f3 /proc/$p/stat 2>/dev/null || echo reaped; "
                            "for s in /proc/[0-9]*/stat; do cut -d' ' -f3 $s; done | grep -c Z"),
                    "", 120);
    EXPECT_EQ(r.out, "reaped\n0\n") << r.err;
}

TEST(RunLifecycle, SigtermIsForwardedToTheCommand) {
    TempDir dir;
    auto policy = write_policy(dir);
    Spawned aj(sh_args(policy, "trap 'echo got-term; exit 143' TERM; echo ready; while :; do sleep 0.1; done"));
    ASSERT_TRUE(aj.wait_for("ready", 180)) << aj.output();
    ::kill(aj.pid(), SIGTERM);
    EXPECT_EQ(aj.wait(180), 143) << aj.output();
    EXPECT_NE(aj.output().find("got-term"), std::string::npos) << aj.output();
}

// When `aurora-jail run` returns, nothing of the sandbox may still run: PID 1 kills and
// reaps what the command left behind before it reports, in both launch paths (no
// cgroup-backed limit: the runner returns on that report without waiting for PID 1's own
// exit; with limits: it empties and removes the cgroup first). Proof that the straggler
// was reaped before the report rather than by the kernel's teardown after it: its CPU
// time is in the report, which holds only what PID 1 had reaped when it reported.
TEST(RunLifecycle, NothingOutlivesTheRun) {
    for (const bool limits : {false, true}) {
        TempDir dir;
        // write_policy() adds the system paths and sets no memory limit.
        nlohmann::json extra = limits ? nlohmann::json{{"max_memory_mb", 256}, {"max_pids", 64}}
                                      : nlohmann::json{{"max_cpu_sec", nullptr}, {"max_pids", nullptr}, {"max_cpus", nullptr}};
        const std::string policy = write_policy(dir, extra);
        const std::string marker = "3141." + std::to_string(::getpid()) + (limits ? "1" : "0");
        // The straggler spins (its $0 is the marker); the command leaves after a second.
        auto args = sh_args(policy, "/bin/sh -c 'while :; do :; done' straggler-" + marker + " & /bin/sleep 1; echo left",
                            {"--json"});
        auto r = run_aj(args, "", 120);
        ASSERT_EQ(r.exit_code, 0) << r.err;
        EXPECT_TRUE(pids_with_cmdline("straggler-" + marker).empty())
            << "limits=" << limits << ": a sandbox process outlived the run";
        const auto nl = r.out.find('\n');
        ASSERT_NE(nl, std::string::npos) << r.out;
        EXPECT_EQ(r.out.substr(0, nl), "left");
        const nlohmann::json report = nlohmann::json::parse(r.out.substr(nl + 1));
        const double cpu = report["cpu"].value("user_sec", 0.0) + report["cpu"].value("sys_sec", 0.0);
        // A second of spinning, even with a small share of a loaded CPU, is far above what
        // sh and sleep use (a few ms).
        EXPECT_GE(cpu, 0.1) << "limits=" << limits << ": the straggler's CPU time is missing: " << report["cpu"];
        // Without a cgroup-backed limit no cgroup is made (its cost is paid for nothing).
        if (!limits) {
            EXPECT_EQ(report["enforced"]["cgroup"].value("created", true), false) << report["enforced"]["cgroup"];
        }
        std::printf("MEASURED straggler: limits=%d, cpu in report %.3f s\n", limits, cpu);
    }
}

TEST(RunLifecycle, KillingAuroraJailKillsTheSandbox) {
    TempDir dir;
    auto policy = write_policy(dir);
    std::string marker = "987." + std::to_string(::getpid());
    Spawned aj(sh_args(policy, "echo ready; exec /bin/sleep " + marker));
    ASSERT_TRUE(aj.wait_for("ready", 180)) << aj.output();
    // Deadlines, not iteration counts: a loaded machine (ASan, parallel tests) may take
    // seconds to exec the sleep or to tear the namespace down.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    std::vector<pid_t> inside;
    while ((inside = pids_with_cmdline("sleep " + marker)).size() < 2 &&  // aurora-jail + the sleep
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_GE(inside.size(), 2u) << "the sandboxed sleep never showed up";
    ::kill(aj.pid(), SIGKILL);
    EXPECT_EQ(aj.wait(), 128 + SIGKILL);
    deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    bool gone = false;
    while (!(gone = pids_with_cmdline("sleep " + marker).empty()) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_TRUE(gone) << "the sandbox outlived aurora-jail";
}

TEST(RunLifecycle, JsonReportFields) {
    TempDir dir;
    auto policy = write_policy(dir, {{"max_open_files", 77}});
    auto r = run_aj(sh_args(policy, "echo out; exit 5", {"--json"}));
    EXPECT_EQ(r.exit_code, 5) << r.err;
    // The command's output comes first, then a newline of aurora-jail's own: the report
    // is always a whole last line, whatever the command printed.
    ASSERT_EQ(r.out.rfind("out\n\n", 0), 0u) << r.out;
    auto line = r.out.substr(5);
    ASSERT_EQ(std::count(line.begin(), line.end(), '\n'), 1);
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["exit_code"], 5);
    EXPECT_TRUE(j["signal"].is_null());
    EXPECT_EQ(j["timed_out"], false);
    EXPECT_EQ(j["mode"], "namespaces");
    EXPECT_GT(j["wall_sec"].get<double>(), 0.0);
    EXPECT_TRUE(j["cpu"].contains("user_sec") && j["cpu"].contains("sys_sec"));
    EXPECT_EQ(j["policy_sha256"].get<std::string>().size(), 64u);
    EXPECT_EQ(j["argv"][0], "/bin/sh");
    EXPECT_TRUE(std::regex_match(j["started_at"].get<std::string>(),
                                 std::regex(R"(20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]Z)")))
        << j["started_at"];
    const auto& e = j["enforced"];
    EXPECT_EQ(e["capabilities"], "all dropped");
    EXPECT_EQ(e["no_new_privs"], true);
    EXPECT_EQ(e["limits"]["open_files"]["value"], 77);
    EXPECT_EQ(e["limits"]["open_files"]["backend"], "rlimit");
    EXPECT_EQ(e["identity"]["inside_uid"], 65534);
    EXPECT_EQ(e["identity"]["outside_uid"], j["host_uid"]);
    if (::geteuid() != 0) {
        EXPECT_EQ(j["host_uid"], ::geteuid());
    }
    EXPECT_NE(std::find(e["namespaces"].begin(), e["namespaces"].end(), "net"), e["namespaces"].end());
    EXPECT_TRUE(e["seccomp"].contains("mode") && e["seccomp"].contains("action"));
    // write_policy's policy keeps the default syscall rules: the built-in program serves.
    EXPECT_EQ(e["seccomp"]["precompiled"], true);

    // --report writes the same object to a file; the file appears whole.
    std::string report = dir.path() + "/report.json";
    auto f = run_aj(sh_args(policy, "kill -TERM $$", {"--report", report}));
    EXPECT_EQ(f.exit_code, 128 + SIGTERM);
    std::ifstream in(report);
    auto fj = nlohmann::json::parse(in);
    EXPECT_EQ(fj["signal"], SIGTERM);
    EXPECT_EQ(fj["exit_code"], 128 + SIGTERM);
}

}  // namespace
}  // namespace aj::test
