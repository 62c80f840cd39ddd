// The Cgroup handle against the real kernel, with a real child placed in it the way the
// launcher does (held on a pipe, placed, released). Runs on cgroup v1 (this build host)
// and cgroup v2 (tests/vm). Skips where no hierarchy is writable for the caller.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

#include "helper/cgroup.hpp"

using aj::helper::Cgroup;
using aj::helper::CgroupRequest;
using aj::helper::LimitBackend;
using Limit = aj::helper::Cgroup::Limit;

namespace {

double now_sec() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// A child that waits until released, then runs body(report_fd) and exits with its result.
struct HeldChild {
    pid_t pid = -1;
    int release_fd = -1;
    int report_fd = -1;

    template <typename F>
    explicit HeldChild(F body) {
        int hold[2], report[2];
        if (::pipe(hold) != 0 || ::pipe(report) != 0) throw std::runtime_error("pipe");
        pid = ::fork();
        if (pid < 0) throw std::runtime_error("fork");
        if (pid == 0) {
            ::close(hold[1]);
            ::close(report[0]);
            char c;
            if (::read(hold[0], &c, 1) != 1) ::_exit(99);
            ::_exit(body(report[1]));
        }
        ::close(hold[0]);
        ::close(report[1]);
        release_fd = hold[1];
        report_fd = report[0];
    }
    void release() const {
        if (::write(release_fd, "x", 1) != 1) throw std::runtime_error("release");
    }
    // Bytes the child wrote to its report pipe until it (and all its children) closed it.
    std::string drain() const {
        std::string out;
        char buf[4096];
        ssize_t n;
        while ((n = ::read(report_fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
        return out;
    }
    int wait() {
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        pid = -1;
        return status;
    }
    ~HeldChild() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            wait();
        }
        ::close(release_fd);
        ::close(report_fd);
    }
};

// Orphans of the fork bomb are re-parented to us; reap them so they do not keep a
// cgroup busy as zombies.
void reap_everything() {
    while (true) {
        int status;
        pid_t p = ::waitpid(-1, &status, 0);
        if (p < 0 && errno == EINTR) continue;
        if (p < 0) break;
    }
}

bool exists(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
}

void expect_removed(Cgroup& cg) {
    auto dirs = cg.directories();
    EXPECT_NO_THROW(cg.remove());
    for (const auto& d : dirs) EXPECT_FALSE(exists(d)) << d << " left behind";
}

std::string notes(const Cgroup& cg) {
    std::string out;
    for (const auto& n : cg.notes()) out += "\n  " + n;
    return out;
}

class CgroupLimits : public ::testing::Test {
protected:
    void SetUp() override { ::prctl(PR_SET_CHILD_SUBREAPER, 1); }
};

}  // namespace

TEST_F(CgroupLimits, MemoryHogIsOomKilledAtTheLimit) {
    CgroupRequest req;
    req.memory_bytes = 32u << 20;
    Cgroup cg = Cgroup::create(req);
    if (cg.backend(Limit::Memory) == LimitBackend::None) GTEST_SKIP() << "no writable memory cgroup:" << notes(cg);

    HeldChild hog([](int report) {
        // Touch 1 MiB at a time and say so, up to 512 MiB (far beyond the limit).
        for (int mib = 1; mib <= 512; ++mib) {
            char* p = static_cast<char*>(std::malloc(1 << 20));
            if (!p) return 3;
            std::memset(p, mib, 1 << 20);
            if (::write(report, "m", 1) != 1) return 4;
        }
        return 0;
    });
    cg.add_process(hog.pid);
    hog.release();
    std::string touched = hog.drain();
    int status = hog.wait();
    auto stats = cg.stats();
    ASSERT_TRUE(WIFSIGNALED(status)) << "hog exited with " << status << " after " << touched.size() << " MiB";
    EXPECT_EQ(WTERMSIG(status), SIGKILL);
    EXPECT_LT(touched.size(), 40u);
    ASSERT_TRUE(stats.oom_kills.has_value());
    EXPECT_GE(*stats.oom_kills, 1u);
    ASSERT_TRUE(stats.memory_peak_bytes.has_value());
    EXPECT_LE(*stats.memory_peak_bytes, (32u << 20) + (1u << 20));
    std::printf("MEASURED memory %s: limit 32 MiB, hog killed after touching %zu MiB, peak %.1f MiB\n",
                aj::helper::backend_name(cg.backend(Limit::Memory)), touched.size(),
                static_cast<double>(*stats.memory_peak_bytes) / (1 << 20));
    expect_removed(cg);
}

TEST_F(CgroupLimits, ForkBombStopsAtPidsMax) {
    CgroupRequest req;
    req.pids = 16;
    Cgroup cg = Cgroup::create(req);
    if (cg.backend(Limit::Pids) == LimitBackend::None) GTEST_SKIP() << "no writable pids cgroup:" << notes(cg);

    HeldChild bomb([](int report) {
        int forked = 0;
        for (int i = 0; i < 1000; ++i) {
            pid_t p = ::fork();
            if (p == 0) {
                ::pause();
                ::_exit(0);
            }
            if (p < 0) break;  // EAGAIN: pids.max reached
            ++forked;
        }
        char line[32];
        int n = std::snprintf(line, sizeof line, "%d", forked);
        if (::write(report, line, static_cast<std::size_t>(n)) != n) return 4;
        ::close(report);
        ::pause();  // stays until the cgroup is killed
        return 0;
    });
    cg.add_process(bomb.pid);
    bomb.release();
    std::string forked;
    char buf[32];
    ssize_t n = ::read(bomb.report_fd, buf, sizeof buf);
    if (n > 0) forked.assign(buf, static_cast<std::size_t>(n));
    ASSERT_FALSE(forked.empty());
    // pids.max counts the bomb itself.
    EXPECT_EQ(std::stoi(forked), 15);
    std::printf("MEASURED pids %s: pids.max 16, bomb stopped after %s forks\n",
                aj::helper::backend_name(cg.backend(Limit::Pids)), forked.c_str());
    cg.kill_all();
    bomb.wait();
    reap_everything();
    expect_removed(cg);
}

TEST_F(CgroupLimits, CpuQuotaThrottlesAndCpuTimeIsAccounted) {
    CgroupRequest req;
    req.cpus = 0.2;
    Cgroup cg = Cgroup::create(req);
    if (cg.backend(Limit::Cpus) == LimitBackend::None || cg.backend(Limit::CpuTime) == LimitBackend::None)
        GTEST_SKIP() << "no writable cpu/cpuacct cgroup:" << notes(cg);

    constexpr double kWall = 1.5;
    HeldChild spinner([](int) {
        double end = now_sec() + kWall;
        volatile unsigned long x = 0;
        while (now_sec() < end) x = x + 1;
        return 0;
    });
    cg.add_process(spinner.pid);
    double start = now_sec();
    spinner.release();
    int status = spinner.wait();
    double wall = now_sec() - start;
    ASSERT_TRUE(WIFEXITED(status));
    auto cpu = cg.cpu_seconds();
    ASSERT_TRUE(cpu.has_value());
    // Unthrottled it would use ~1.5 s; at 0.2 of a core about 0.3 s.
    EXPECT_LT(*cpu, 0.2 * wall + 0.25) << "cpu " << *cpu << " over wall " << wall;
    EXPECT_GT(*cpu, 0.05);
    std::printf("MEASURED cpus %s: quota 0.2 core, spinner got %.3f s CPU in %.3f s wall (%.2f cores)\n",
                aj::helper::backend_name(cg.backend(Limit::Cpus)), *cpu, wall, *cpu / wall);
    expect_removed(cg);
}

TEST_F(CgroupLimits, CpuTimeCountsEveryProcess) {
    Cgroup cg = Cgroup::create(CgroupRequest{});
    if (cg.backend(Limit::CpuTime) == LimitBackend::None) GTEST_SKIP() << "no cpu accounting:" << notes(cg);
    // Two processes burning 0.3 s of CPU each: RLIMIT_CPU would see 0.3 s per process only.
    HeldChild spinner([](int) {
        pid_t other = ::fork();
        timespec ts{};
        volatile unsigned long x = 0;
        do {
            for (int i = 0; i < 100000; ++i) x = x + 1;
            ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        } while (ts.tv_sec == 0 && ts.tv_nsec < 300'000'000);
        if (other == 0) ::_exit(0);
        int st;
        ::waitpid(other, &st, 0);
        return 0;
    });
    cg.add_process(spinner.pid);
    spinner.release();
    spinner.wait();
    auto cpu = cg.cpu_seconds();
    ASSERT_TRUE(cpu.has_value());
    EXPECT_GT(*cpu, 0.55);
    expect_removed(cg);
}

TEST_F(CgroupLimits, RemoveKillsWhatIsStillRunning) {
    Cgroup cg = Cgroup::create(CgroupRequest{});
    if (cg.directories().empty()) GTEST_SKIP() << "no writable cgroup:" << notes(cg);
    HeldChild sleeper([](int) {
        ::pause();
        return 0;
    });
    cg.add_process(sleeper.pid);
    sleeper.release();
    cg.kill_all();
    int status = sleeper.wait();
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    expect_removed(cg);
}

// Where Cgroup::create makes a sandbox's cgroup (its first hierarchy), found by making
// and removing one; "" with `why` set when no hierarchy is writable.
std::string sandbox_cgroup_parent(std::string& why) {
    Cgroup probe = Cgroup::create(CgroupRequest{});
    if (probe.directories().empty()) {
        why = "no writable cgroup:" + notes(probe);
        return "";
    }
    std::string parent = probe.directories().front();
    parent.erase(parent.rfind('/'));
    probe.remove();
    return parent;
}

TEST_F(CgroupLimits, StaleSandboxCgroupsOfDeadOwnersAreSwept) {
    std::string why;
    const std::string parent = sandbox_cgroup_parent(why);
    if (parent.empty()) GTEST_SKIP() << why;

    pid_t dead = ::fork();
    if (dead == 0) ::_exit(0);
    int st;
    ::waitpid(dead, &st, 0);
    std::string stale = parent + "/aurora-jail-" + std::to_string(dead) + "-deadbeef";
    std::string alive = parent + "/aurora-jail-" + std::to_string(::getpid()) + "-inuse";
    ASSERT_EQ(::mkdir(stale.c_str(), 0755), 0) << std::strerror(errno);
    ASSERT_EQ(::mkdir(alive.c_str(), 0755), 0) << std::strerror(errno);

    Cgroup cg = Cgroup::create(CgroupRequest{});
    EXPECT_FALSE(exists(stale)) << "stale cgroup of dead pid " << dead << " survived";
    EXPECT_TRUE(exists(alive)) << "the cgroup of a live owner was swept";
    ::rmdir(alive.c_str());
    expect_removed(cg);
}

// A killed run process whose adopter has not reaped it yet (a container's PID 1 may never
// reap) is a zombie: its cgroup is stale all the same, and the sweep must not wait for it.
TEST_F(CgroupLimits, StaleSandboxCgroupsOfZombieOwnersAreSwept) {
    std::string why;
    const std::string parent = sandbox_cgroup_parent(why);
    if (parent.empty()) GTEST_SKIP() << why;

    pid_t zombie = ::fork();
    if (zombie == 0) ::_exit(0);
    siginfo_t info{};
    // Exited, and left unreaped (WNOWAIT) until the sweep has run.
    ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(zombie), &info, WEXITED | WNOWAIT), 0) << std::strerror(errno);
    std::string stale = parent + "/aurora-jail-" + std::to_string(zombie) + "-deadbeef";
    ASSERT_EQ(::mkdir(stale.c_str(), 0755), 0) << std::strerror(errno);

    Cgroup cg = Cgroup::create(CgroupRequest{});
    EXPECT_FALSE(exists(stale)) << "stale cgroup of zombie pid " << zombie << " survived";
    ::rmdir(stale.c_str());
    int st;
    ::waitpid(zombie, &st, 0);
    expect_removed(cg);
}

TEST_F(CgroupLimits, UnwritableHierarchiesAreReportedNotFatal) {
    CgroupRequest req;
    req.memory_bytes = 64u << 20;
    req.pids = 10;
    Cgroup cg = Cgroup::create(req);  // must not throw as root or as nobody
    for (auto l : {Limit::Memory, Limit::Pids}) {
        if (cg.backend(l) == LimitBackend::None) {
            EXPECT_FALSE(cg.notes().empty());
        }
    }
    auto d = cg.describe();
    EXPECT_TRUE(d.contains("memory"));
    expect_removed(cg);
}
