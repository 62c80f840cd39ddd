// The sandbox's stdio is relayed (helper/stdio_relay.hpp): it holds no open file of the
// caller, so the caller's `>> log` file and terminal come out of a run as they went in;
// output is complete and exit statuses are the command's.
#include <fcntl.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>

#include <gtest/gtest.h>

#include "tests/support/jail.hpp"

namespace aj::test {
namespace {

// aurora-jail with the given fds as its 0, 1, 2 (-1: /dev/null); returns its exit code.
int run_with_stdio(const std::vector<std::string>& aj_args, int in, int out, int err) {
    std::vector<std::string> argv{aj_bin()};
    argv.insert(argv.end(), aj_args.begin(), aj_args.end());
    std::vector<char*> argp;
    for (auto& a : argv) argp.push_back(a.data());
    argp.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid == 0) {
        int null = ::open("/dev/null", O_RDWR);
        ::dup2(in >= 0 ? in : null, 0);
        ::dup2(out >= 0 ? out : null, 1);
        ::dup2(err >= 0 ? err : null, 2);
        ::execv(argp[0], argp.data());
        ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string file_content(const std::string& path) {
    std::string out;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    char buf[4096];
    for (ssize_t n; fd >= 0 && (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
    if (fd >= 0) ::close(fd);
    return out;
}

// The caller's `>> log`: fd 1 inside is a pipe, so ftruncate and fallocate reach nothing
// of the host's file, and the command's output is appended after what was there.
// The caller's `>> log` holding "kept line", handed to the stdout-file-attack probe as its
// stdout (with `extra` run flags); returns the log's path.
std::string attack_appended_log(const TempDir& dir, const std::vector<std::string>& extra) {
    std::string log = dir.write("log", "kept line\n", 0666);
    auto policy = write_policy(dir);
    int fd = ::open(log.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    EXPECT_GE(fd, 0) << log;
    EXPECT_EQ(run_with_stdio(probe_args(policy, "stdout-file-attack", {}, extra), -1, fd, -1), 0);
    ::close(fd);
    return log;
}

TEST(RunStdio, CallersAppendedFileCannotBeTruncatedOrGrown) {
    TempDir dir;
    const std::string log = attack_appended_log(dir, {});
    // Both calls fail on a pipe (EINVAL for ftruncate, ESPIPE or ENODEV for fallocate).
    const std::string content = file_content(log);
    EXPECT_EQ(content.rfind("kept line\n", 0), 0u) << content;
    EXPECT_EQ(content.find("ok"), std::string::npos) << content;
    struct stat st {};
    ASSERT_EQ(::stat(log.c_str(), &st), 0);
    EXPECT_LT(st.st_size, 100) << content;
}

// --pass-stdio is the old, weaker behaviour, documented as such: the same probe then does
// reach the caller's file. (This also shows the probe above can tell the difference.)
TEST(RunStdio, PassStdioGivesTheCallersOwnFile) {
    TempDir dir;
    const std::string log = attack_appended_log(dir, {"--pass-stdio"});
    EXPECT_EQ(file_content(log).find("kept line"), std::string::npos) << file_content(log);
}

struct TerminalState {
    termios mode{};
    int ldisc = -1;
    int exclusive = -1;
};

TerminalState terminal_state(int fd) {
    TerminalState s;
    EXPECT_EQ(::tcgetattr(fd, &s.mode), 0);
    EXPECT_EQ(::ioctl(fd, TIOCGETD, &s.ldisc), 0);
    EXPECT_EQ(::ioctl(fd, TIOCGEXCL, &s.exclusive), 0);
    return s;
}

// The caller's terminal (a pty pair made here) is stdin and the controlling terminal of
// aurora-jail, as in a user's shell. Inside, fd 0 is the relay's own pseudo-terminal:
// exclusive mode, line discipline and termios changes stay there.
TEST(RunStdio, TerminalChangesInsideLeaveTheCallersTerminalAsItWas) {
    int master = -1, slave = -1;
    if (::openpty(&master, &slave, nullptr, nullptr, nullptr) != 0) GTEST_SKIP() << "no pseudo-terminals here";
    const TerminalState before = terminal_state(slave);
    TempDir dir;
    auto policy = write_policy(dir);
    {
        Spawned aj(probe_args(policy, "terminal-attack"), slave, /*new_session=*/true);
        EXPECT_EQ(aj.wait(), 0) << aj.output();
        // The calls themselves succeed: on the relay's terminal.
        EXPECT_EQ(aj.output().find("EBADF"), std::string::npos) << aj.output();
        EXPECT_NE(aj.output().find("ok"), std::string::npos) << aj.output();
    }
    const TerminalState after = terminal_state(slave);
    EXPECT_EQ(after.exclusive, 0);
    EXPECT_EQ(after.ldisc, before.ldisc);
    EXPECT_EQ(after.mode.c_lflag, before.mode.c_lflag);
    EXPECT_EQ(after.mode.c_iflag, before.mode.c_iflag);
    EXPECT_EQ(after.mode.c_oflag, before.mode.c_oflag);
    EXPECT_EQ(0, std::memcmp(after.mode.c_cc, before.mode.c_cc, sizeof before.mode.c_cc));
    ::close(slave);
    ::close(master);
}

// A terminal caller gets a terminal inside (the relay's), with the caller's window size.
TEST(RunStdio, TerminalCallerGetsATerminalWithItsSize) {
    int master = -1, slave = -1;
    winsize size{};
    size.ws_row = 33;
    size.ws_col = 111;
    if (::openpty(&master, &slave, nullptr, nullptr, &size) != 0) GTEST_SKIP() << "no pseudo-terminals here";
    TempDir dir;
    auto policy = write_policy(dir);
    Spawned aj(sh_args(policy, "test -t 0 && stty size <&0"), slave, /*new_session=*/true);
    EXPECT_EQ(aj.wait(), 0) << aj.output();
    ::close(slave);
    // stty's output went to the relay's terminal, whose output the relay writes to the
    // caller's terminal: read it on the master.
    std::string seen;
    char buf[256];
    for (ssize_t n; (n = ::read(master, buf, sizeof buf)) > 0;) seen.append(buf, static_cast<std::size_t>(n));
    ::close(master);
    EXPECT_NE((seen + aj.output()).find("33 111"), std::string::npos) << seen << aj.output();
}

// Output written after the command read its stdin to EOF arrives, all of it, in order.
TEST(RunStdio, InputEofPropagatesAndOutputIsComplete) {
    TempDir dir;
    auto policy = write_policy(dir);
    std::string input;
    for (int i = 0; input.size() < (3u << 20); ++i) input += "line " + std::to_string(i) + "\n";
    auto r = run_process({aj_bin(), "run", "--policy", policy, "--", "/bin/sh", "-c", "cat; echo after-eof; echo err >&2"},
                         input);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(r.out.size(), input.size() + 10) << r.err;
    EXPECT_TRUE(r.out == input + "after-eof\n");
    EXPECT_EQ(r.err, "err\n");
}

TEST(RunStdio, LargeOutputIsComplete) {
    TempDir dir;
    auto policy = write_policy(dir);
    auto r = run_aj({"run", "--policy", policy, "--", "/bin/sh", "-c", "head -c 20000000 /dev/zero; echo end >&2"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.size(), 20000000u);
    EXPECT_EQ(r.err, "end\n");
}

TEST(RunStdio, ExitStatusesAreTheCommands) {
    TempDir dir;
    auto policy = write_policy(dir);
    EXPECT_EQ(run_aj(sh_args(policy, "echo out; exit 7")).exit_code, 7);
    EXPECT_EQ(run_aj(sh_args(policy, "kill -TERM $$")).exit_code, 128 + SIGTERM);
    // A caller that stops reading: the command gets SIGPIPE as it would on the caller's pipe.
    auto r = run_process({"/bin/sh", "-c", aj_bin() + " run --policy " + policy +
                                               " -- /bin/sh -c 'yes; echo \"yes=$?\" >&2' | head -c 10 >/dev/null"});
    EXPECT_NE(r.err.find("yes=141"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace aj::test
