// Landlock against the real kernel, in a forked child (restriction is irrevocable).
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>

#include "helper/landlock.hpp"
#include "tests/support/process.hpp"

using aj::helper::LandlockRule;
using aj::policy::PathMode;

namespace {

// Runs check() in a child after applying the rules; the child's exit status is the
// number of the first failed expectation (0: all held), 77 when Landlock is missing.
int in_restricted_child(const std::vector<LandlockRule>& rules, aj::helper::LandlockOptions opts,
                        const std::function<int()>& check) {
    pid_t pid = ::fork();
    if (pid == 0) {
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ::_exit(90);
        try {
            if (aj::helper::apply_landlock(rules, opts).abi == 0) ::_exit(77);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "%s\n", e.what());
            ::_exit(91);
        }
        ::_exit(check());
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int open_errno(const std::string& path, int flags) {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
    if (fd >= 0) {
        ::close(fd);
        return 0;
    }
    return errno;
}

}  // namespace

TEST(Landlock, UnnamedDeniedReadOnlyReadableReadWriteWritable) {
    auto support = aj::helper::probe_landlock();
    if (support.abi == 0) GTEST_SKIP() << support.reason;
    aj::test::TempDir ro, rw, other;
    std::string ro_file = ro.write("data", "hello");
    std::string secret = other.write("secret", "s3cret");
    std::vector<LandlockRule> rules = {{ro.path(), PathMode::ReadOnly}, {rw.path(), PathMode::ReadWrite},
                                       {"/nonexistent-aj-path", PathMode::ReadOnly}};
    int rc = in_restricted_child(rules, {}, [&] {
        if (open_errno(secret, O_RDONLY) != EACCES) return 1;
        if (open_errno(other.path() + "/new", O_WRONLY | O_CREAT) != EACCES) return 2;
        if (open_errno(ro_file, O_RDONLY) != 0) return 3;
        if (open_errno(ro_file, O_WRONLY) != EACCES) return 4;
        if (open_errno(ro.path() + "/new", O_WRONLY | O_CREAT) != EACCES) return 5;
        if (open_errno(rw.path() + "/new", O_WRONLY | O_CREAT) != 0) return 6;
        if (::mkdir((rw.path() + "/sub").c_str(), 0755) != 0) return 7;
        if (::unlink((rw.path() + "/new").c_str()) != 0) return 8;
        if (open_errno("/etc/passwd", O_RDONLY) != EACCES) return 9;
        return 0;
    });
    EXPECT_EQ(rc, 0) << "failed check #" << rc;
}

TEST(Landlock, MissingRulePathsAreReportedNotFatal) {
    if (aj::helper::probe_landlock().abi == 0) GTEST_SKIP() << "no Landlock";
    int rc = in_restricted_child({{"/nonexistent-aj-path", PathMode::ReadWrite}}, {}, [] { return 0; });
    EXPECT_EQ(rc, 0);
}

TEST(Landlock, TcpConnectDeniedWhenAsked) {
    auto support = aj::helper::probe_landlock();
    if (support.abi < 4) GTEST_SKIP() << "Landlock ABI " << support.abi << " has no network rules";
    aj::helper::LandlockOptions opts;
    opts.deny_tcp = true;
    int rc = in_restricted_child({}, opts, [] {
        int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0) return 1;
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(9);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int r = ::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        return (r != 0 && errno == EACCES) ? 0 : 2;
    });
    EXPECT_EQ(rc, 0);
}

TEST(Landlock, SignalsOutsideTheDomainAreScoped) {
    auto support = aj::helper::probe_landlock();
    if (support.abi < 6) GTEST_SKIP() << "Landlock ABI " << support.abi << " has no scoping";
    pid_t outside = ::getpid();  // the test process: not in the child's domain
    int rc = in_restricted_child({}, {}, [outside] {
        if (::kill(outside, SIGCONT) == 0 || errno != EPERM) return 1;
        if (::kill(::getpid(), 0) != 0) return 2;  // its own domain is fine
        return 0;
    });
    EXPECT_EQ(rc, 0);
}
