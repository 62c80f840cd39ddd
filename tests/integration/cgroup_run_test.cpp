// The limits end to end through `aurora-jail run`, in namespaces mode and in rlimit-only
// mode (a host whose seccomp filter refuses namespaces): a memory hog, a CPU spinner that
// spreads over two processes, a fork bomb. Each prints "MEASURED ..." with the point at
// which it was stopped and the backend that stopped it. Also runs in tests/vm (cgroup v2).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/integration/fallback_no_userns.hpp"
#include "tests/support/process.hpp"

namespace {

// The test binary is also the hog that runs inside the sandbox: "--aj-hog KIND".
void say(const std::string& s) { ssize_t ignored = ::write(1, s.data(), s.size()); (void)ignored; }

int hog_main(const std::string& kind) {
    if (kind == "memory") {
        for (int mib = 1; mib <= 1024; ++mib) {
            char* p = static_cast<char*>(std::malloc(1 << 20));
            if (!p) {
                say("malloc-failed\n");
                return 3;
            }
            std::memset(p, 1, 1 << 20);
            say("m");
        }
        return 0;
    }
    if (kind == "memory-split") {  // two processes, each under the limit, together over it
        // The child is the larger (26 MiB against 10), so it is the OOM killer's pick and
        // the command (the parent) is left sleeping unless the whole sandbox is killed.
        const bool child = ::fork() == 0;
        if (!child) ::usleep(200 * 1000);  // the parent touches its share last
        for (int mib = 1; mib <= (child ? 26 : 10); ++mib) {
            char* p = static_cast<char*>(std::malloc(1 << 20));
            if (!p) {
                say("malloc-failed\n");
                return 3;
            }
            std::memset(p, 1, 1 << 20);
        }
        say("touched\n");
        ::sleep(20);
        return 0;
    }
    if (kind == "cpu") {  // two processes: RLIMIT_CPU alone would allow each its full share
        ::fork();
        volatile unsigned long x = 0;
        while (true) x = x + 1;
    }
    if (kind == "forks") {
        int n = 0;
        for (; n < 200; ++n) {  // bounded: where max_pids is not enforced this still ends
            pid_t p = ::fork();
            if (p == 0) {
                ::pause();
                ::_exit(0);
            }
            if (p < 0) break;
        }
        say("forks=" + std::to_string(n) + "\n");
        return 0;
    }
    return 2;
}

// glibc passes argc/argv to ELF constructors; /proc may be out of reach in the sandbox.
__attribute__((constructor)) void hog_hook(int argc, char** argv, char**) {
    if (argc == 3 && std::strcmp(argv[1], "--aj-hog") == 0) ::_exit(hog_main(argv[2]));
}

struct HogRun {
    aj::test::ProcessResult r;
    nlohmann::json report;
    double wall = 0;
};

HogRun run_hog(const std::string& kind, const std::string& limits, bool fallback) {
    aj::test::TempDir dir;
    std::string exe = aj::test::self_exe();
    std::string exe_dir = exe.substr(0, exe.rfind('/'));
    std::string policy = dir.write("policy.json",
                                   R"({"allowed_paths": ["/usr", "/bin", "/lib", "/lib64", ")" + exe_dir +
                                       R"("], "timeout_sec": 60, )" + limits + "}");
    std::string report = dir.path() + "/report.json";
    std::vector<std::string> argv = {aj::test::aj_bin(), "run", "--policy", policy, "--report", report,
                                     "--", exe, "--aj-hog", kind};
    if (fallback) argv = aj::test::without_namespaces(argv);
    HogRun run;
    auto start = std::chrono::steady_clock::now();
    run.r = aj::test::run_process(argv, "", {}, 120);
    run.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    try {
        std::ifstream in(report);
        run.report = nlohmann::json::parse(in);
    } catch (const std::exception&) {
        ADD_FAILURE() << "no report; exit " << run.r.exit_code << "\nstderr: " << run.r.err;
    }
    return run;
}

std::string backend(const nlohmann::json& report, const char* limit) {
    try {
        return report.at("enforced").at("limits").at(limit).at("backend");
    } catch (const std::exception&) {
        return "?";
    }
}

void expect_no_cgroup_left(const nlohmann::json& report) {
    if (!report.contains("enforced") || !report["enforced"].contains("cgroup")) return;
    for (const auto& d : report["enforced"]["cgroup"].value("directories", nlohmann::json::array())) {
        struct stat st;
        EXPECT_NE(::stat(d.get<std::string>().c_str(), &st), 0) << d << " left behind";
    }
}

class CgroupRun : public ::testing::TestWithParam<bool> {
protected:
    bool fallback() const { return GetParam(); }
    const char* mode() const { return fallback() ? "rlimit-only" : "namespaces"; }
};

}  // namespace

TEST_P(CgroupRun, MemoryHogStoppedAtMaxMemory) {
    HogRun run = run_hog("memory", R"("max_memory_mb": 32)", fallback());
    ASSERT_TRUE(run.report.is_object());
    EXPECT_EQ(run.report["mode"], mode());
    std::string b = backend(run.report, "memory_mb");
    std::size_t touched = std::count(run.r.out.begin(), run.r.out.end(), 'm');
    if (b.rfind("cgroup", 0) == 0) {
        EXPECT_LT(touched, 40u) << "the hog touched " << touched << " MiB under a 32 MiB limit";
        EXPECT_EQ(run.r.exit_code, 137) << run.r.err;
        EXPECT_EQ(run.report["enforced"]["cgroup"]["oom_killed"], true);
        EXPECT_NE(run.r.err.find("OOM-killed"), std::string::npos) << run.r.err;
    } else {
        // No memory cgroup: one process meets RLIMIT_DATA (its malloc fails), unless the
        // polled total of the sandbox's processes got there first (killed).
        EXPECT_EQ(b, "accounting");
        EXPECT_TRUE(run.r.out.find("malloc-failed") != std::string::npos || run.r.exit_code == 137)
            << run.r.exit_code << run.r.out << run.r.err;
        EXPECT_NE(run.r.err.find("NOT enforced"), std::string::npos) << run.r.err;
        EXPECT_LT(touched, 40u) << "the hog touched " << touched << " MiB under a 32 MiB limit";
    }
    std::printf("MEASURED memory %s/%s: max_memory_mb 32, hog stopped after %zu MiB touched, peak %s bytes, exit %d\n",
                mode(), b.c_str(), touched,
                run.report["enforced"].value("cgroup", nlohmann::json::object()).value("memory_peak_bytes", nlohmann::json()).dump().c_str(),
                run.r.exit_code);
    expect_no_cgroup_left(run.report);
}

// max_memory_mb bounds the sandbox, not each process: two processes of 26 and 10 MiB under
// a 32 MiB limit are stopped, by the cgroup (OOM) or, without one, by accounting.
TEST_P(CgroupRun, MemoryIsATotalOverProcesses) {
#if defined(__SANITIZE_ADDRESS__)
    // PID 1 is this build's aurora-jail, whose ASan shadow memory makes it the largest
    // process of a 32 MiB cgroup: the OOM killer would pick it, not a hog.
    if (!fallback()) GTEST_SKIP() << "under ASan, PID 1 is the memory cgroup's largest process";
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    if (!fallback()) GTEST_SKIP() << "under ASan, PID 1 is the memory cgroup's largest process";
#endif
#endif
    HogRun run = run_hog("memory-split", R"("max_memory_mb": 32)", fallback());
    ASSERT_TRUE(run.report.is_object());
    std::string b = backend(run.report, "memory_mb");
    if (b.rfind("cgroup-v2", 0) == 0) {
        // memory.oom.group: the OOM killer ends both processes (and the sandbox's PID 1)
        // at once; with one victim only, the other would sleep out its 20 s.
        EXPECT_EQ(run.report["enforced"]["cgroup"]["oom_killed"], true) << run.report["enforced"].dump();
        EXPECT_EQ(run.report["enforced"]["cgroup"]["oom_group"], true) << run.report["enforced"].dump();
        EXPECT_EQ(run.report["enforced"]["limits"]["memory_mb"].value("on_oom", ""),
                  "every process of the sandbox is killed (memory.oom.group)");
        EXPECT_EQ(run.r.exit_code, 137) << run.r.out << run.r.err;
        EXPECT_LT(run.wall, 15.0) << "a process of the sandbox outlived the OOM kill";
        EXPECT_NE(run.r.err.find("OOM-killed (every process of it)"), std::string::npos) << run.r.err;
    } else if (b.rfind("cgroup", 0) == 0) {
        // The cgroup v1 OOM killer ends one of the two (not necessarily the command).
        EXPECT_EQ(run.report["enforced"]["cgroup"]["oom_killed"], true) << run.report["enforced"].dump();
    } else {
        // Accounting kills every process of the sandbox at once.
        EXPECT_EQ(run.r.exit_code, 137) << b << ": " << run.r.out << run.r.err;
        EXPECT_LT(run.wall, 15.0) << "the two processes were not stopped before their 20 s sleep ended";
        EXPECT_EQ(b, "accounting");
        EXPECT_EQ(run.report["enforced"]["accounting"]["memory_exceeded"], true) << run.report["enforced"].dump();
        EXPECT_NE(run.r.err.find("used more than max_memory_mb"), std::string::npos) << run.r.err;
    }
    std::printf("MEASURED memory total %s/%s: two processes of 26 + 10 MiB under max_memory_mb 32: exit %d after %.2f s\n",
                mode(), b.c_str(), run.r.exit_code, run.wall);
    expect_no_cgroup_left(run.report);
}

TEST_P(CgroupRun, CpuSpinnerStoppedAtMaxCpuSec) {
    HogRun run = run_hog("cpu", R"("max_cpu_sec": 1)", fallback());
    ASSERT_TRUE(run.report.is_object());
    std::string b = backend(run.report, "cpu_sec");
    // SIGKILL from the cgroup watch, or SIGXCPU/SIGKILL from RLIMIT_CPU.
    EXPECT_TRUE(run.r.exit_code == 137 || run.r.exit_code == 128 + SIGXCPU) << run.r.exit_code << run.r.err;
    // Stopped by the CPU limit, not by the policy's 60 s timeout (which would exit 124, see
    // above). CPU seconds are not wall seconds: with two tests and ASan on 2 cores the two
    // spinners may get a fraction of a core, so the wall bound only has to stay below 60 s.
    EXPECT_LT(run.wall, 50.0);
    double cpu = run.report["enforced"].value("cgroup", nlohmann::json::object()).value("cpu_sec", -1.0);
    if (b.rfind("cgroup", 0) == 0) {
        EXPECT_EQ(run.report["enforced"]["cgroup"]["cpu_time_exceeded"], true);
        EXPECT_GE(cpu, 1.0);
        EXPECT_LT(cpu, 1.6) << "the watch let two processes use " << cpu << " s of CPU";
    } else {
        // No cgroup CPU accounting: the total is summed from /proc, so two spinners stop
        // near 1 s together, not at 1 s each (RLIMIT_CPU alone).
        EXPECT_EQ(b, "accounting+rlimit");
        cpu = run.report["enforced"]["accounting"].value("cpu_sec", -1.0);
        EXPECT_EQ(run.report["enforced"]["accounting"]["cpu_time_exceeded"], true) << run.report["enforced"].dump();
        EXPECT_LT(cpu, 1.6) << "two processes used " << cpu << " s of CPU under max_cpu_sec 1";
    }
    std::printf("MEASURED cpu_sec %s/%s: max_cpu_sec 1, two spinning processes stopped at %.3f s CPU (cgroup), %.2f s wall, exit %d\n",
                mode(), b.c_str(), cpu, run.wall, run.r.exit_code);
    expect_no_cgroup_left(run.report);
}

TEST_P(CgroupRun, ForkBombStoppedAtMaxPids) {
    HogRun run = run_hog("forks", R"("max_pids": 16)", fallback());
    ASSERT_TRUE(run.report.is_object());
    std::string b = backend(run.report, "pids");
    if (b.rfind("cgroup", 0) != 0)
        GTEST_SKIP() << "no pids cgroup here (backend " << b << "): max_pids is cgroup-only by design";
    auto pos = run.r.out.find("forks=");
    ASSERT_NE(pos, std::string::npos) << run.r.out << run.r.err;
    int forks = std::stoi(run.r.out.substr(pos + 6));  // throws (fails the test) on garbage
    // pids.max counts every task in the cgroup: the hog itself (and PID 1 in namespaces mode).
    EXPECT_LE(forks, 15);
    EXPECT_GE(forks, 10);
    std::printf("MEASURED pids %s/%s: max_pids 16, bomb stopped after %d forks\n", mode(), b.c_str(), forks);
    expect_no_cgroup_left(run.report);
}

INSTANTIATE_TEST_SUITE_P(Modes, CgroupRun, ::testing::Values(false, true),
                         [](const auto& p) { return p.param ? std::string("RlimitOnly") : std::string("Namespaces"); });

// Where one cgroup2 directory holds the whole sandbox cgroup (a pure v2 host, as in
// tests/vm), the sandbox must be born in it with clone3(CLONE_INTO_CGROUP): no moment
// outside it, and no migration (whose write lock waits out an RCU grace period). With v1
// hierarchies (this CI host) PID 1 is moved through cgroup.procs before it may fork.
TEST(CgroupPlacement, PureV2BirthsTheSandboxInItsCgroup) {
    HogRun run = run_hog("memory", R"("max_memory_mb": 64, "max_pids": 32)", false);
    ASSERT_TRUE(run.report.is_object());
    const nlohmann::json cg = run.report["enforced"].value("cgroup", nlohmann::json::object());
    const nlohmann::json dirs = cg.value("directories", nlohmann::json::array());
    if (dirs.empty()) GTEST_SKIP() << "no cgroup could be created here: " << cg.dump();
    const bool one_v2_dir = dirs.size() == 1 && backend(run.report, "memory_mb") == "cgroup-v2";
    EXPECT_EQ(cg.value("placed_by", ""), one_v2_dir ? "clone3 CLONE_INTO_CGROUP" : "cgroup.procs") << cg.dump();
    std::printf("MEASURED placement: %zu cgroup directories, placed by %s\n", dirs.size(),
                cg.value("placed_by", "?").c_str());
    expect_no_cgroup_left(run.report);
}

// The built-in policy caps CPU bandwidth at one core (issue 12 item 2): two spinners
// running for one second of wall time get about one second of CPU between them, not two.
// Only where a cpu cgroup is writable (root on this host); elsewhere the report must say
// the cap is not enforced.
TEST(CgroupDefaults, DefaultPolicyCapsCpuBandwidthAtOneCore) {
    aj::test::TempDir dir;
    std::string report = dir.path() + "/report.json";
    // Two processes spinning for 1 s each, in parallel (sh and timeout are under /usr and
    // /bin, which the built-in policy shows).
    const std::string spin = "timeout 1 sh -c 'while :; do :; done'";
    const auto started = std::chrono::steady_clock::now();
    auto r = aj::test::run_process({aj::test::aj_bin(), "run", "--report", report, "--", "sh", "-c",
                                    spin + " & " + spin + " & wait"},
                                   "", {}, 60);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::ifstream in(report);
    nlohmann::json j = nlohmann::json::parse(in);
    const nlohmann::json& cpus = j["enforced"]["limits"]["cpus"];
    EXPECT_EQ(cpus["value"], 1.0) << cpus.dump();
    std::string b = backend(j, "cpus");
    if (b.rfind("cgroup", 0) != 0) {
        EXPECT_EQ(b, "none");
        GTEST_SKIP() << "no writable cpu cgroup for this user (cpus backend " << b
                     << "): the report says the cap is not enforced";
    }
    // The cap as the kernel held it, read back from the sandbox cgroup: one 100 ms quota
    // per 100 ms period. What it does to CPU time is the kernel's CFS bandwidth control;
    // a bound on the CPU seconds used cannot be asserted here: under a loaded host (and
    // more so in the emulated VM, whose descheduled time the guest charges to the task
    // that was running) one accounting step can overrun the quota by tens of ms per CPU.
    EXPECT_EQ(cpus.value("cpu_max", ""), "100000 100000") << cpus.dump();
    double cpu = j["enforced"]["cgroup"].value("cpu_sec", -1.0);
    ASSERT_GE(cpu, 0.0) << j["enforced"]["cgroup"].dump();
    ASSERT_TRUE(j["enforced"]["cgroup"].contains("cpu_throttled_periods")) << j["enforced"]["cgroup"].dump();
    std::printf("MEASURED cpus %s: default policy (max_cpus 1, cpu.max %s), two spinners for 1 s used %.3f s CPU "
                "in %.3f s wall, throttled in %llu periods\n",
                b.c_str(), cpus.value("cpu_max", "").c_str(), cpu, wall,
                static_cast<unsigned long long>(j["enforced"]["cgroup"].value("cpu_throttled_periods", 0ULL)));
    expect_no_cgroup_left(j);
}

// --require-isolation (like allow_fallback: false) refuses a run whose limits no cgroup
// holds as totals, before anything runs, naming the limit and how to get a cgroup; where
// a cgroup holds them (root here) the run goes ahead.
TEST(CgroupDefaults, RequireIsolationRefusesLimitsNoCgroupHolds) {
    aj::test::TempDir dir;
    std::string report = dir.path() + "/report.json";
    auto r = aj::test::run_process({aj::test::aj_bin(), "run", "--require-isolation", "--report", report, "--", "echo",
                                    "ran"});
    if (r.exit_code == 0) {
        EXPECT_EQ(r.out, "ran\n");
        std::ifstream in(report);
        nlohmann::json j = nlohmann::json::parse(in);
        EXPECT_EQ(backend(j, "memory_mb").rfind("cgroup", 0), 0u) << j["enforced"]["limits"].dump();
        EXPECT_EQ(backend(j, "cpus").rfind("cgroup", 0), 0u) << j["enforced"]["limits"].dump();
        return;
    }
    EXPECT_EQ(r.exit_code, 125) << r.err;
    EXPECT_EQ(r.out.find("ran"), std::string::npos) << "the command ran: " << r.out;
    EXPECT_NE(r.err.find("refusing to run: no writable cgroup holds max_memory_mb"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("Delegate=yes"), std::string::npos) << r.err;
}
