// The denial supervisor against the real kernel, without a sandbox around it: a forked
// child loads a supervised program (policy::DenialDelivery::Supervisor) and passes its
// listener over a report channel, as the sandbox's PID 1 does; this process (or a
// process it kills) supervises. Refusals use ENOANO, which the kernel never returns for
// these calls: an assertion passes only when the supervisor answered.
#include <gtest/gtest.h>

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

#include "helper/channel.hpp"
#include "helper/notify_supervisor.hpp"
#include "helper/seccomp_load.hpp"
#include "policy/parse.hpp"
#include "policy/seccomp_compile.hpp"
#include "policy/sys.hpp"
#include "tests/support/under_asan.hpp"

namespace aj::helper {
namespace {

constexpr int kSucceeded = 200;
constexpr int kSetupFailed = 201;
constexpr auto kSupervised = policy::DenialDelivery::Supervisor;

const std::string kDenyGetppid =
    R"({"blocked_syscalls": ["getppid", "@debug"], "blocked_action": {"action": "errno", "errno": "ENOANO"}})";

int outcome(long rc) { return rc == -1 ? errno : kSucceeded; }

int exit_code(int status) { return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status); }

// A child under `policy_json`'s supervised filter, its listener sent to `channel`.
pid_t start_child(const std::string& policy_json, int channel, const std::function<int()>& body) {
    const policy::SeccompProgram prog =
        policy::compile_seccomp(policy::parse_policy(policy_json, "test policy"), kSupervised);
    pid_t pid = ::fork();
    if (pid != 0) return pid;
    rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ::_exit(kSetupFailed);
    try {
        sys::UniqueFd listener = load_seccomp(prog);
        if (!listener || !send_listener(channel, listener.get())) ::_exit(kSetupFailed);
    } catch (...) {
        ::_exit(kSetupFailed);
    }
    ::close(channel);
    ::_exit(body());
}

sys::UniqueFd receive_listener(int channel) {
    std::string pending;
    std::vector<sys::UniqueFd> fds;
    receive_report(channel, pending, fds);
    const auto messages = take_messages(pending);
    if (messages.size() != 1 || messages[0].kind != MessageKind::Listener || fds.size() != 1) return {};
    return std::move(fds[0]);
}

struct Supervised {
    int exit_code = -1;
    nlohmann::json denials;
    std::string lines;
};

// Runs `body` in a supervised child and answers its calls until it exits.
Supervised run_supervised(const std::string& policy_json, const std::function<int()>& body) {
    sys::Pipe channel = make_report_channel();
    const pid_t pid = start_child(policy_json, channel.write.get(), body);
    channel.write.reset();
    std::FILE* lines = std::tmpfile();
    Supervised out;
    {
        NotifySupervisor sup(policy::seccomp_inputs(policy::parse_policy(policy_json, "test policy"), kSupervised),
                             lines);
        sup.adopt(receive_listener(channel.read.get()));
        EXPECT_GE(sup.fd(), 0) << "no listener arrived";
        sys::UniqueFd exited(sys::pidfd_open(pid));
        for (;;) {
            pollfd fds[2] = {{sup.fd(), POLLIN, 0}, {exited.get(), POLLIN, 0}};
            if (::poll(fds, 2, -1) < 0 && errno != EINTR) break;
            if (fds[0].revents) sup.on_ready(fds[0].revents);
            if (fds[1].revents) break;
        }
        int status = 0;
        ::waitpid(pid, &status, 0);
        out.exit_code = exit_code(status);
        out.denials = sup.to_json();
    }
    std::rewind(lines);
    char buf[4096];
    std::size_t n = std::fread(buf, 1, sizeof buf, lines);
    out.lines.assign(buf, n);
    std::fclose(lines);
    return out;
}

TEST(NotifySupervisor, AnswersWithThePolicyErrnoAndNamesTheRule) {
    Supervised s = run_supervised(kDenyGetppid, [] {
        if (outcome(::syscall(SYS_getppid)) != ENOANO) return 1;
        if (outcome(::syscall(SYS_getppid)) != ENOANO) return 2;
        if (outcome(::syscall(SYS_ptrace, 0, 0, 0, 0)) != ENOANO) return 3;
        return outcome(::syscall(SYS_getpid));  // allowed: not delivered
    });
    EXPECT_EQ(s.exit_code, kSucceeded);
    EXPECT_EQ(s.denials, (nlohmann::json{
                             {{"syscall", "getppid"}, {"nr", 110}, {"arch", "x86_64"},
                              {"rule", "blocked_syscalls[0] \"getppid\""}, {"count", 2}},
                             {{"syscall", "ptrace"}, {"nr", 101}, {"arch", "x86_64"},
                              {"rule", "blocked_syscalls[1] \"@debug\""}, {"count", 1}},
                         }));
    EXPECT_EQ(s.lines,
              "aurora-jail: denied getppid (x86_64 nr 110) by blocked_syscalls[0] \"getppid\"\n"
              "aurora-jail: denied ptrace (x86_64 nr 101) by blocked_syscalls[1] \"@debug\"\n");
}

TEST(NotifySupervisor, AllowListNamesTheMissingEntry) {
#ifdef AJ_UNDER_ASAN
    GTEST_SKIP() << "under ASan the instrumented child's own calls outside the allow-list are delivered too";
#endif
    // What the child does after loading: pass the listener, close the channel, the call, exit.
    const std::string policy = R"({"allowed_syscalls": ["execve", "sendmsg", "close", "exit_group", "exit"],
        "blocked_action": {"action": "errno", "errno": "ENOANO"}})";
    Supervised s = run_supervised(policy, [] { return outcome(::syscall(SYS_ptrace, 0, 0, 0, 0)); });
    EXPECT_EQ(s.exit_code, ENOANO);
    ASSERT_EQ(s.denials.size(), 1u) << s.denials.dump();
    EXPECT_EQ(s.denials[0]["rule"], "allowed_syscalls (not listed)");
}

TEST(NotifySupervisor, SixtyFourThreadsAtOnceEveryOneAnsweredCountExact) {
    Supervised s = run_supervised(kDenyGetppid, [] {
        std::atomic<bool> go{false};
        std::atomic<int> refused{0};
        std::vector<std::thread> threads;
        for (int i = 0; i < 64; ++i)
            threads.emplace_back([&] {
                while (!go.load()) {
                }
                if (outcome(::syscall(SYS_getppid)) == ENOANO) ++refused;
            });
        go = true;
        for (auto& t : threads) t.join();
        return refused.load() == 64 ? kSucceeded : refused.load();
    });
    EXPECT_EQ(s.exit_code, kSucceeded);
    ASSERT_EQ(s.denials.size(), 1u) << s.denials.dump();
    EXPECT_EQ(s.denials[0]["count"], 64);
}

// x32 calls (nr | __X32_SYSCALL_BIT) reach the kernel's x32 table only on kernels built
// with it; the filter refuses them before dispatch either way.
TEST(NotifySupervisor, X32CallsAreRefusedAndReportedAsX32) {
    Supervised s = run_supervised(kDenyGetppid, [] { return outcome(::syscall(0x40000000L | SYS_getpid)); });
    EXPECT_EQ(s.exit_code, ENOANO);
    ASSERT_EQ(s.denials.size(), 1u) << s.denials.dump();
    EXPECT_EQ(s.denials[0]["arch"], "x32");
    EXPECT_EQ(s.denials[0]["nr"], SYS_getpid);
    EXPECT_EQ(s.denials[0]["syscall"], "getpid");
    EXPECT_NE(s.lines.find("by the foreign-ABI rule"), std::string::npos) << s.lines;
}

long int80(long nr) {
    long ret;
    asm volatile("int $0x80" : "=a"(ret) : "a"(nr) : "memory", "r8", "r9", "r10", "r11");
    return ret;
}

TEST(NotifySupervisor, I386CallsAreRefusedAndReportedAsI386) {
    pid_t probe = ::fork();
    if (probe == 0) ::_exit(int80(20) == ::getpid() ? kSucceeded : 1);
    int status = 0;
    ::waitpid(probe, &status, 0);
    if (exit_code(status) != kSucceeded) GTEST_SKIP() << "this kernel runs no i386 system calls";
    // i386 ptrace is 26: the blocked call an ABI switch would smuggle past a deny-list.
    Supervised s = run_supervised(kDenyGetppid, [] {
        const long rc = int80(26);
        return rc == -ENOANO ? kSucceeded : static_cast<int>(rc);
    });
    EXPECT_EQ(s.exit_code, kSucceeded);
    ASSERT_EQ(s.denials.size(), 1u) << s.denials.dump();
    EXPECT_EQ(s.denials[0]["arch"], "i386");
    EXPECT_EQ(s.denials[0]["nr"], 26);
    EXPECT_EQ(s.denials[0]["syscall"], "ptrace");
}

// The first field of /proc/PID/syscall: the number of the call PID is blocked in.
bool blocked_in(pid_t pid, long nr) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/syscall");
    long current = -2;
    return static_cast<bool>(in >> current) && current == nr;
}

// The supervisor dies with a call pending and another still to come: both fail (ENOSYS
// from the kernel), neither runs.
TEST(NotifySupervisor, SupervisorDeathFailsClosed) {
    sys::Pipe channel = make_report_channel();
    sys::Pipe go = sys::make_pipe("test pipe");
    const pid_t child = start_child(kDenyGetppid, channel.write.get(), [&] {
        char c;
        if (::read(go.read.get(), &c, 1) != 1) return kSetupFailed;
        const int first = outcome(::syscall(SYS_getppid));
        const int second = outcome(::syscall(SYS_ptrace, 0, 0, 0, 0));
        return first == ENOSYS && second == ENOSYS ? kSucceeded : first * 1000 + second;
    });
    channel.write.reset();
    // The supervisor: takes the listener, never answers, is killed.
    sys::Pipe took = sys::make_pipe("test pipe");
    const pid_t supervisor = ::fork();
    if (supervisor == 0) {
        sys::UniqueFd listener = receive_listener(channel.read.get());
        if (!listener || ::write(took.write.get(), "t", 1) != 1) ::_exit(1);
        for (;;) ::pause();
    }
    channel.read.reset();
    char c;
    ASSERT_EQ(::read(took.read.get(), &c, 1), 1);
    ASSERT_EQ(::write(go.write.get(), "g", 1), 1);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!blocked_in(child, SYS_getppid) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_TRUE(blocked_in(child, SYS_getppid)) << "the call never waited for the supervisor";
    ::kill(supervisor, SIGKILL);
    int status = 0;
    ::waitpid(supervisor, &status, 0);
    ::waitpid(child, &status, 0);
    EXPECT_EQ(exit_code(status), kSucceeded);
}

TEST(NotifySupervisor, StderrLinesAreCapped) {
    std::string blocked;
    for (const char* call : {"getppid", "getpgrp", "getsid", "getpgid", "getuid", "geteuid", "getgid", "getegid",
                             "getresuid", "getresgid", "getgroups", "getpriority", "getrusage", "getcpu", "gettid",
                             "getrlimit", "sysinfo", "uname", "times", "umask", "sched_yield", "getitimer"})
        blocked += std::string(blocked.empty() ? "" : ", ") + "\"" + call + "\"";
    const std::string policy =
        R"({"blocked_syscalls": [)" + blocked + R"(], "blocked_action": {"action": "errno", "errno": "ENOANO"}})";
    Supervised s = run_supervised(policy, [] {
        for (long nr : {SYS_getppid, SYS_getpgrp, SYS_getsid, SYS_getpgid, SYS_getuid, SYS_geteuid, SYS_getgid,
                        SYS_getegid, SYS_getresuid, SYS_getresgid, SYS_getgroups, SYS_getpriority, SYS_getrusage,
                        SYS_getcpu, SYS_gettid, SYS_getrlimit, SYS_sysinfo, SYS_uname, SYS_times, SYS_umask,
                        SYS_sched_yield, SYS_getitimer})
            if (outcome(::syscall(nr, 0, 0, 0)) != ENOANO) return static_cast<int>(nr);
        return kSucceeded;
    });
    EXPECT_EQ(s.exit_code, kSucceeded);
    EXPECT_EQ(s.denials.size(), 22u);
    EXPECT_EQ(std::count(s.lines.begin(), s.lines.end(), '\n'), NotifySupervisor::kMaxLines + 1) << s.lines;
    EXPECT_NE(s.lines.find("further denials are not shown here"), std::string::npos);
}

TEST(NotifySupervisor, OnlyUnconditionalErrnoRefusalsAreDelivered) {
    auto program = [](const std::string& json) {
        return policy::compile_seccomp(policy::parse_policy(json, "test policy"), kSupervised);
    };
    EXPECT_TRUE(policy::needs_listener(program("{}")));
    EXPECT_FALSE(policy::needs_listener(program(R"({"blocked_action": "kill"})")));
    EXPECT_FALSE(policy::needs_listener(program(R"({"blocked_action": "log"})")));
    // The kernel-answered program of the same policy never is.
    EXPECT_FALSE(policy::needs_listener(policy::compile_seccomp(policy::parse_policy("{}", "test policy"))));
}

}  // namespace
}  // namespace aj::helper
