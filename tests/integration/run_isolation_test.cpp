// What the sandbox can see: only named paths, read-only unless rw, its own pids, its own
// network, its own identity. Each test fails if the protection it names is removed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/support/jail.hpp"

namespace aj::test {
namespace {

TEST(RunIsolation, HostFilesNotNamedAreInvisible) {
    TempDir allowed, hidden;
    allowed.write("visible", "v");
    std::string secret = hidden.write("secret", "s3cret");
    auto policy = write_policy(allowed, {{"allowed_paths", {allowed.path()}}});
    auto r = run_aj(sh_args(policy,
                            "for p in /etc/shadow /root /home " + secret + " " + hidden.path() +
                                "; do test -e $p && echo VISIBLE $p; done; "
                                // /etc/passwd is the sandbox's own (system view), never the host's.
                                "grep -q '^daemon:' /etc/passwd 2>/dev/null && echo VISIBLE host passwd; cat " + allowed.path() +
                                "/visible; echo; ls /"));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.find("VISIBLE"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("v\n"), std::string::npos) << r.out;  // the named path is there
    // Host-side sanity: the secret exists, so its absence inside is the sandbox's doing.
    EXPECT_TRUE(std::filesystem::exists(secret));
}

TEST(RunIsolation, ReadOnlyBindRefusesWrites) {
    TempDir dir;
    auto policy = write_policy(dir, {{"allowed_paths", {dir.path()}}});
    auto r = run_aj(probe_args(policy, "write", {dir.path() + "/new"}));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "EROFS\n");
    EXPECT_FALSE(std::filesystem::exists(dir.path() + "/new"));
}

TEST(RunIsolation, ReadWriteBindIsWritable) {
    TempDir dir;
    std::filesystem::permissions(dir.path(), std::filesystem::perms::all);  // sandbox uid may differ
    auto policy = write_policy(dir, {{"allowed_paths", {{{"path", dir.path()}, {"mode", "rw"}}}}});
    auto r = run_aj(probe_args(policy, "write", {dir.path() + "/new"}));
    EXPECT_EQ(r.out, "ok 1\n") << r.err;
    ASSERT_TRUE(std::filesystem::exists(dir.path() + "/new"));
    struct stat st {};
    ::stat((dir.path() + "/new").c_str(), &st);
    // Files the sandbox creates belong to the caller, or for a root caller to the host uid
    // leased for the run (the directory is root's: never mapped to root, idmap.hpp).
    if (::geteuid() == 0) {
        EXPECT_NE(st.st_uid, 0u);
        EXPECT_NE(st.st_uid, 65534u);
    } else {
        EXPECT_EQ(st.st_uid, ::geteuid());
    }
}

TEST(RunIsolation, ReadOnlyAppliesToSubMounts) {
    if (!running_as_root()) GTEST_SKIP() << "needs root to make a sub-mount in a private mount namespace";
    TempDir dir;
    std::filesystem::create_directory(dir.path() + "/sub");
    auto policy = write_policy(dir, {{"allowed_paths", {dir.path()}}});
    // The sub-mount exists only in unshare's private mount namespace, never on the host.
    std::string cmd = "mount -t tmpfs -o mode=0777 aj-test " + dir.path() + "/sub && exec " + aj_bin() +
                      " run --policy " + policy + " -- " + self_exe() + " --aj-probe write " + dir.path() +
                      "/sub/new";
    auto r = run_process({"/usr/bin/unshare", "-m", "--propagation", "private", "/bin/sh", "-c", cmd});
    EXPECT_EQ(r.out, "EROFS\n") << r.err;
}

TEST(RunIsolation, RootOwnedPrivateFileUnreadableForRootCaller) {
    if (!running_as_root()) GTEST_SKIP() << "the identity mapping for a root caller";
    TempDir dir;
    std::string file = dir.write("private", "root only", 0600);
    auto policy = write_policy(dir, {{"allowed_paths", {dir.path()}}});
    auto r = run_aj(probe_args(policy, "read", {file}));
    EXPECT_EQ(r.out, "EACCES\n") << r.err;
}

TEST(RunIsolation, IdentityInsideIs65534) {
    TempDir dir;
    auto policy = write_policy(dir);
    auto r = run_aj(sh_args(policy, "echo $(id -u):$(id -g); cat /proc/self/uid_map"));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.substr(0, r.out.find('\n')), "65534:65534") << r.out;
    // uid_map: "65534 OUTSIDE 1"; OUTSIDE is the caller, or a root caller's leased uid.
    std::istringstream map(r.out.substr(r.out.find('\n') + 1));
    unsigned long inside = 0, outside = 0, count = 0;
    map >> inside >> outside >> count;
    EXPECT_EQ(inside, 65534u) << r.out;
    EXPECT_EQ(count, 1u) << r.out;
    if (::geteuid() == 0) {
        EXPECT_NE(outside, 0u) << r.out;
        EXPECT_NE(outside, 65534u) << r.out;
    } else {
        EXPECT_EQ(outside, ::geteuid()) << r.out;
    }
}

TEST(RunIsolation, NoHostPidsVisible) {
    TempDir dir;
    auto policy = write_policy(dir);
    auto r = run_aj(sh_args(policy, "echo $$; ls /proc | grep -c '^[0-9]'"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    int self = -1, count = -1;
    std::istringstream(r.out) >> self >> count;
    EXPECT_EQ(self, 2) << r.out;  // PID 1 is the sandbox's init, the command is next
    EXPECT_GE(count, 2);
    EXPECT_LE(count, 4) << r.out;  // init, sh, ls (and perhaps grep): nothing of the host

    auto k = run_aj(probe_args(policy, "kill", {std::to_string(::getpid())}));
    EXPECT_EQ(k.out, "ESRCH\n") << k.err;
}

TEST(RunIsolation, HostLoopbackListenerUnreachable) {
    int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(l, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(l, 4), 0);
    socklen_t len = sizeof addr;
    ::getsockname(l, reinterpret_cast<sockaddr*>(&addr), &len);
    std::string port = std::to_string(ntohs(addr.sin_port));

    TempDir dir;
    auto policy = write_policy(dir);
    auto r = run_aj(probe_args(policy, "connect", {"127.0.0.1", port}));
    EXPECT_EQ(r.out, "ECONNREFUSED\n") << r.err;

    // Control: with "network": "host" the same probe reaches it, so the above is the netns.
    auto host_policy = write_policy(dir, {{"network", "host"}}, "host.json");
    auto h = run_aj(probe_args(host_policy, "connect", {"127.0.0.1", port}));
    EXPECT_EQ(h.out, "ok 0\n") << h.err;
    ::close(l);
}

TEST(RunIsolation, LoopbackIsUpInside) {
    TempDir dir;
    auto policy = write_policy(dir);
    auto r = run_aj(probe_args(policy, "loopback"));
    EXPECT_EQ(r.out, "ok 0\n") << r.err;
}

TEST(RunIsolation, HostnameFromPolicy) {
    TempDir dir;
    auto policy = write_policy(dir, {{"hostname", "probe-box"}});
    auto r = run_aj(sh_args(policy, "cat /proc/sys/kernel/hostname"));
    EXPECT_EQ(r.out, "probe-box\n") << r.err;
}

// max_tmpfs_mb is one budget for /tmp and /dev/shm together (issue 12 item 3): with a
// tmpfs each, 48 MiB fitted in both under a 64 MiB policy (96 MiB of host memory).
TEST(RunIsolation, TmpAndShmShareOneTmpfsBudget) {
    TempDir dir;
    auto policy = write_policy(dir, {{"max_tmpfs_mb", 64}});
    auto r = run_aj(sh_args(policy,
                            "head -c 48M /dev/zero > /tmp/a && echo tmp-ok; "
                            "head -c 48M /dev/zero > /dev/shm/b && echo shm-ok; "
                            "echo tmp=$(wc -c < /tmp/a) shm=$(wc -c < /dev/shm/b)"));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("tmp-ok"), std::string::npos) << r.out << r.err;
    EXPECT_EQ(r.out.find("shm-ok"), std::string::npos) << "48 MiB fitted in /dev/shm after 48 MiB in /tmp\n" << r.out;
    EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
    EXPECT_NE(r.out.find("tmp=50331648 "), std::string::npos) << r.out;
}

// The scratch tmpfs is reachable only through its two bound directories: its own root is
// mounted nowhere in the sandbox (it stays below the old root, which pivot_root's detach
// takes away), so nothing outside /tmp and /dev/shm can be written into the budget.
TEST(RunIsolation, TheScratchTmpfsShowsOnlyItsBoundDirectories) {
    TempDir dir;
    auto policy = write_policy(dir, {{"max_tmpfs_mb", 64}});
    auto r = run_aj(sh_args(policy,
                            "dev=$(awk '$5==\"/tmp\" {print $3}' /proc/self/mountinfo); "
                            "awk -v d=\"$dev\" '$3==d {print $4, $5}' /proc/self/mountinfo | sort"));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "/shm /dev/shm\n/tmp /tmp\n") << r.err;
}

TEST(RunIsolation, WorkdirIsWritableAndTheCwd) {
    TempDir dir, work;
    std::filesystem::permissions(work.path(), std::filesystem::perms::all);
    auto policy = write_policy(dir);
    auto r = run_aj(sh_args(policy, "pwd; echo hi > out", {"--workdir", work.path()}));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, work.path() + "\n");
    EXPECT_TRUE(std::filesystem::exists(work.path() + "/out"));
}

}  // namespace
}  // namespace aj::test
