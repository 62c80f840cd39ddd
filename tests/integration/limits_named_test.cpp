// Limits a run reaches are named, on stderr ("aurora-jail: limit hit: ...") and in the
// report's enforced.limits.NAME.hit: the command's own error (EAGAIN, ENOSPC, a signal)
// does not say which policy key it met.
#include <unistd.h>

#include <csignal>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/jail.hpp"

namespace aj::test {
namespace {

nlohmann::json report_of(const ProcessResult& r) {
    std::string text = r.out;
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return nlohmann::json::parse(text.substr(text.rfind('\n') + 1));
}

TEST(LimitsNamed, PidsFromTheCgroupsEvents) {
    TempDir dir;
    auto policy = write_policy(dir, {{"max_pids", 8}});
    auto r = run_aj({"run", "--json", "--policy", policy, "--", "/bin/sh", "-c",
                     "i=0; while [ $i -lt 20 ]; do sleep 2 & i=$((i+1)); done 2>/dev/null; wait; exit 1"});
    const auto report = report_of(r);
    const auto& pids = report.at("enforced").at("limits").at("pids");
    if (pids.at("backend").get<std::string>().rfind("cgroup", 0) != 0)
        GTEST_SKIP() << "no pids cgroup for this caller (backend " << pids.at("backend") << ")";
    EXPECT_NE(r.err.find("aurora-jail: limit hit: max_pids 8 (cgroup pids."), std::string::npos) << r.err;
    EXPECT_EQ(pids.value("hit", false), true) << pids.dump();
    EXPECT_NE(pids.value("hit_by", "").find("cgroup pids."), std::string::npos) << pids.dump();
    // Under the limit, nothing is said.
    r = run_aj({"run", "--json", "--policy", policy, "--", "/bin/sh", "-c", "sleep 0 & wait"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err.find("limit hit"), std::string::npos) << r.err;
    EXPECT_FALSE(report_of(r).at("enforced").at("limits").at("pids").contains("hit"));
}

TEST(LimitsNamed, TmpfsBudget) {
    TempDir dir;
    auto policy = write_policy(dir, {{"max_tmpfs_mb", 1}});
    auto r = run_aj({"run", "--json", "--policy", policy, "--", "/bin/sh", "-c",
                     "head -c 2097152 /dev/zero > /tmp/fill"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("aurora-jail: limit hit: max_tmpfs_mb 1 (the scratch tmpfs"), std::string::npos) << r.err;
    EXPECT_TRUE(report_of(r).at("enforced").at("limits").at("tmpfs_mb").contains("hit"));
    r = run_aj({"run", "--policy", policy, "--", "/bin/sh", "-c", "head -c 1024 /dev/zero > /tmp/small"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err.find("limit hit"), std::string::npos) << r.err;
}

TEST(LimitsNamed, FileSizeBySigxfsz) {
    TempDir dir;
    auto policy = write_policy(dir, {{"max_file_size_mb", 1}});
    auto r = run_aj({"run", "--json", "--policy", policy, "--", "dd", "if=/dev/zero", "of=/tmp/f", "bs=1M", "count=2"});
    EXPECT_EQ(r.exit_code, 128 + SIGXFSZ) << r.err;
    EXPECT_NE(r.err.find("aurora-jail: limit hit: max_file_size_mb 1 (the command was killed by SIGXFSZ"),
              std::string::npos)
        << r.err;
    EXPECT_TRUE(report_of(r).at("enforced").at("limits").at("file_size_mb").contains("hit"));
}

// One process over max_cpu_sec: RLIMIT_CPU's SIGXCPU, or the cgroup's total; either way
// the report says the CPU limit was exceeded.
TEST(LimitsNamed, CpuTimeOfOneProcess) {
    TempDir dir;
    auto policy = write_policy(dir, {{"max_cpu_sec", 1}, {"timeout_sec", 30}});
    auto r = run_aj({"run", "--json", "--policy", policy, "--", "/bin/sh", "-c", "while :; do :; done"}, "", 60);
    ASSERT_NE(r.exit_code, 0);
    const auto report = report_of(r);
    EXPECT_FALSE(report.at("timed_out").get<bool>());
    EXPECT_TRUE(report.at("enforced").at("limits").at("cpu_sec").contains("hit")) << report.dump();
    const auto& cgroup = report.at("enforced").at("cgroup");
    if (cgroup.value("created", true)) {
        EXPECT_TRUE(cgroup.at("cpu_time_exceeded").get<bool>()) << cgroup.dump();
    }
    if (report.at("signal") == SIGXCPU) {
        EXPECT_NE(r.err.find("aurora-jail: limit hit: max_cpu_sec 1 (the command was killed by SIGXCPU"),
                  std::string::npos)
            << r.err;
    }
}

TEST(LimitsNamed, WallClock) {
    TempDir dir;
    auto policy = write_policy(dir, {{"timeout_sec", 1}});
    auto r = run_aj({"run", "--json", "--policy", policy, "--", "sleep", "5"});
    EXPECT_EQ(r.exit_code, 124);
    EXPECT_TRUE(report_of(r).at("enforced").at("limits").at("timeout_sec").contains("hit"));
}


// Limits met where neither a cgroup nor the command's own end names them: max_pids held
// by RLIMIT_NPROC alone (no pids cgroup: an ordinary user on a cgroup v1 host, a host
// without cgroups), SIGXCPU or SIGXFSZ killing a process other than the command (a
// shell's child, which the shell outlives), a tmpfs filled then emptied. The limits watch
// and PID 1's polls see them (docs/policy.md, "limits hit"). As root, a host without
// cgroups is made for real: aurora-jail runs in a mount namespace of its own where the
// cgroup file systems are unmounted.

// aurora-jail ARGS where no cgroup can be created (tests/support/jail.hpp).
ProcessResult run_without_cgroups(const std::vector<std::string>& args, int timeout_sec = 60) {
    std::vector<std::string> argv{aj_bin()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(without_cgroups(argv), "", {}, timeout_sec);
}

const nlohmann::json& limit_of(const nlohmann::json& report, const char* name) {
    return report.at("enforced").at("limits").at(name);
}

// Whether a pids cgroup held max_pids after all (the watch then has nothing to name).
bool held_by_a_pids_cgroup(const nlohmann::json& pids) {
    return pids.at("backend").get<std::string>().find("cgroup") != std::string::npos;
}

TEST(LimitsNamed, PidsWithoutACgroup) {
    TempDir dir;
    auto policy = write_policy(dir, {{"max_pids", 8}});
    // Twenty children asked for, eight tasks allowed (PID 1 and python3 among them): the
    // rest of the forks fail with EAGAIN while the children hold their places.
    auto r = run_without_cgroups({"run", "--json", "--policy", policy, "--", "python3", "-c", kPythonForks20});
    auto report = report_of(r);
    const auto& pids = limit_of(report, "pids");
    if (held_by_a_pids_cgroup(pids))
        GTEST_SKIP() << "a pids cgroup holds max_pids here (backend " << pids.at("backend") << ")";
    EXPECT_NE(r.out.find("fork refused after 6 Resource temporarily unavailable"), std::string::npos) << r.out << r.err;
    EXPECT_NE(r.err.find("aurora-jail: limit hit: max_pids 8 ("), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("of the sandbox reached RLIMIT_NPROC (8) at a poll of the watch"), std::string::npos) << r.err;
    EXPECT_EQ(pids.value("hit", false), true) << pids.dump();
    EXPECT_NE(pids.value("hit_by", "").find("reached RLIMIT_NPROC (8)"), std::string::npos) << pids.dump();

    // Well under the limit: ten threads that live a while under max_pids 256 are not named.
    policy = write_policy(dir, {{"max_pids", 256}}, "roomy.json");
    const std::string ten_threads =
        "import threading, time\n"
        "ts = [threading.Thread(target=time.sleep, args=(0.4,)) for _ in range(10)]\n"
        "[t.start() for t in ts]; [t.join() for t in ts]";
    r = run_without_cgroups({"run", "--json", "--policy", policy, "--", "python3", "-c", ten_threads});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err.find("limit hit"), std::string::npos) << r.err;
    EXPECT_FALSE(limit_of(report_of(r), "pids").contains("hit")) << r.out;
}

// Threads count as RLIMIT_NPROC counts them: Python's "can't start new thread" is named.
TEST(LimitsNamed, ThreadsPastMaxPidsWithoutACgroup) {
    TempDir dir;
    auto policy = write_policy(dir, {{"max_pids", 32}});
    const std::string threads =
        "import threading, time\n"
        "ts = []\n"
        "try:\n"
        "    for _ in range(64):\n"
        "        t = threading.Thread(target=time.sleep, args=(1,)); t.start(); ts.append(t)\n"
        "except RuntimeError as e:\n"
        "    print('refused after', len(ts), e)\n"
        "[t.join() for t in ts]";
    auto r = run_without_cgroups({"run", "--json", "--policy", policy, "--", "python3", "-c", threads});
    auto report = report_of(r);
    const auto& pids = limit_of(report, "pids");
    if (held_by_a_pids_cgroup(pids))
        GTEST_SKIP() << "a pids cgroup holds max_pids here (backend " << pids.at("backend") << ")";
    EXPECT_NE(r.out.find("refused after"), std::string::npos) << r.out << r.err;
    EXPECT_NE(r.err.find("aurora-jail: limit hit: max_pids 32 ("), std::string::npos) << r.err;
    EXPECT_EQ(pids.value("hit", false), true) << pids.dump();
}

// python3 dies of SIGXCPU, its shell goes on and exits 0: the report names the process
// that met RLIMIT_CPU. The total (cgroup or accounting) counts the shell and PID 1 too, so
// now and then it passes max_cpu_sec a tick before python3's own RLIMIT_CPU and the watch
// kills the sandbox first (python3 then dies of SIGKILL): the total is named instead.
TEST(LimitsNamed, SigxcpuInAChildProcess) {
    TempDir dir;
    auto policy = write_policy(dir, {{"max_cpu_sec", 1}, {"timeout_sec", 30}});
    auto r = run_aj({"run", "--json", "--policy", policy, "--", "/bin/sh", "-c",
                     "python3 -c 'while 1: pass'; echo rc=$?"},
                    "", 60);
    const auto report = report_of(r);
    // What the command printed: the report's own line (its argv holds "rc=$?") left out.
    const std::string printed = r.out.rfind('{', 0) == 0 ? std::string() : r.out.substr(0, r.out.rfind("\n{"));
    const auto& cpu = limit_of(report, "cpu_sec");
    EXPECT_EQ(cpu.value("hit", false), true) << report.dump();
    const std::string by = cpu.value("hit_by", "");
    if (by == "the sandbox's processes used that much CPU time together") {
        EXPECT_EQ(r.exit_code, 137) << r.err;
        EXPECT_EQ(printed.find("rc="), std::string::npos) << printed;
        return;
    }
    EXPECT_NE(by.find("a process of the sandbox (\"python3\") was killed by SIGXCPU"), std::string::npos) << cpu.dump();
    EXPECT_NE(r.err.find("aurora-jail: limit hit: max_cpu_sec 1 (a process of the sandbox (\"python3\") was killed by "
                         "SIGXCPU"),
              std::string::npos)
        << r.err;
    // The shell may still be killed by the total right after python3 (its echo not run).
    if (printed.find("rc=") != std::string::npos) {
        EXPECT_NE(printed.find("rc=152"), std::string::npos) << printed;  // 128 + SIGXCPU
        EXPECT_EQ(r.exit_code, 0) << r.err;
    }
}

// A writer that has lived a poll of the watch (a logger, a long job) and then meets
// RLIMIT_FSIZE: the shell that started it prints 153 and exits 0. (Not python3: it
// ignores SIGXFSZ and gets EFBIG, which is not seen.)
TEST(LimitsNamed, SigxfszInAChildProcess) {
    TempDir dir;
    auto policy = write_policy(dir, {{"max_file_size_mb", 1}});
    auto r = run_aj({"run", "--json", "--policy", policy, "--", "/bin/sh", "-c",
                     "sh -c 'sleep 0.5; exec head -c 2097152 /dev/zero' > /tmp/f; echo rc=$?"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("rc=153"), std::string::npos) << r.out;  // 128 + SIGXFSZ
    const auto report = report_of(r);
    const auto& size = limit_of(report, "file_size_mb");
    EXPECT_EQ(size.value("hit", false), true) << size.dump();
    // Named as the watch last saw it: "sh", or "head" once it had exec'd.
    EXPECT_NE(r.err.find("aurora-jail: limit hit: max_file_size_mb 1 (a process of the sandbox ("), std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find(") was killed by SIGXFSZ: it wrote past RLIMIT_FSIZE)"), std::string::npos) << r.err;
}

// No false hits: a child that ends normally, or is killed by another signal, names nothing.
TEST(LimitsNamed, OtherDeathsAreNotNamed) {
    TempDir dir;
    auto policy = write_policy(dir, {{"max_cpu_sec", 5}, {"max_file_size_mb", 1}});
    const std::string script =
        "python3 -c 'import time; time.sleep(0.3)'; sleep 5 & sleep 0.3; kill -TERM $!; wait; "
        "head -c 1048576 /dev/zero > /tmp/exactly; echo done";
    auto r = run_aj({"run", "--json", "--policy", policy, "--", "/bin/sh", "-c", script});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("done"), std::string::npos) << r.out;
    EXPECT_EQ(r.err.find("limit hit"), std::string::npos) << r.err;
    const auto report = report_of(r);
    EXPECT_FALSE(limit_of(report, "cpu_sec").contains("hit")) << report.dump();
    EXPECT_FALSE(limit_of(report, "file_size_mb").contains("hit")) << report.dump();
}

// /tmp filled (the write fails with ENOSPC), then emptied before the command ends: PID 1's
// polls of the scratch tmpfs saw it full.
TEST(LimitsNamed, TmpfsFilledThenEmptied) {
    TempDir dir;
    auto policy = write_policy(dir, {{"max_tmpfs_mb", 1}});
    auto r = run_aj({"run", "--json", "--policy", policy, "--", "/bin/sh", "-c",
                     "head -c 2097152 /dev/zero > /tmp/fill; sleep 0.3; rm /tmp/fill; echo emptied"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("emptied"), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("aurora-jail: limit hit: max_tmpfs_mb 1 (the scratch tmpfs"), std::string::npos) << r.err;
    EXPECT_EQ(limit_of(report_of(r), "tmpfs_mb").value("hit", false), true) << r.out;
}

}  // namespace
}  // namespace aj::test
