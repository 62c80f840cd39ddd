// Host identity and host quotas of a sandbox (SECURITY.md, "Multi-tenant hosts"): a root
// caller's sandbox runs as host ids leased for it alone (never an NSS account, never
// another live sandbox's), released when the run ends; what it leaves is owned by them;
// a directory it is given rw keeps its owner; and the kernel charges the sandbox's own
// uid, never root, for what the sandbox creates. An ordinary caller's sandbox stays the
// caller. Each test fails when the mechanism it names is reverted.
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <sstream>

#include <gtest/gtest.h>

#include "helper/id_pool.hpp"
#include "tests/integration/plugin_support.hpp"
#include "tests/support/jail.hpp"

namespace aj::test {
namespace {

using nlohmann::json;

json read_report(const std::string& path) { return json::parse(slurp(path), nullptr, false); }

struct stat stat_of(const std::string& path) {
    struct stat st{};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path << ": " << std::strerror(errno);
    return st;
}

// The lease of `uid` is free: this process can take it (and gives it back at once).
bool lease_is_free(uid_t uid) {
    const std::string path = std::string(helper::kLockDir) + "/" + std::to_string(uid);
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return false;
    const bool free = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
    ::close(fd);
    return free;
}

// A root caller's sandbox uid: in the configured range, unknown to NSS, with its gid.
void expect_leased(uid_t uid, gid_t gid) {
    const helper::IdRange range = helper::load_id_range();
    EXPECT_GE(uid, range.first);
    EXPECT_LT(uid - range.first, range.count);
    EXPECT_EQ(gid, uid);
    EXPECT_FALSE(helper::id_known_to_nss(uid)) << uid << " is an account of this host";
}

TEST(HostIdentity, ConcurrentRunsHaveTheirOwnHostIdsReleasedAfter) {
    AJ_REQUIRE_SANDBOX();
    TempDir dir;
    std::filesystem::permissions(dir.path(), std::filesystem::perms::all);  // written as the sandbox's own uid
    auto policy = write_policy(dir, {{"allowed_paths", {{{"path", dir.path()}, {"mode", "rw"}}}}});
    auto args = [&](const std::string& n) {
        return sh_args(policy, "touch " + dir.path() + "/left-" + n + " && echo READY && sleep 3",
                       {"--report", dir.path() + "/report-" + n + ".json"});
    };
    Spawned a(args("a")), b(args("b"));
    ASSERT_TRUE(a.wait_for("READY")) << a.output();
    ASSERT_TRUE(b.wait_for("READY")) << b.output();
    // Both sandboxes live now.
    const struct stat left_a = stat_of(dir.path() + "/left-a"), left_b = stat_of(dir.path() + "/left-b");
    if (running_as_root()) {
        EXPECT_NE(left_a.st_uid, left_b.st_uid) << "two live sandboxes share a host uid";
        expect_leased(left_a.st_uid, left_a.st_gid);
        expect_leased(left_b.st_uid, left_b.st_gid);
        EXPECT_FALSE(lease_is_free(left_a.st_uid)) << "a live sandbox's lease is not held";
        EXPECT_FALSE(lease_is_free(left_b.st_uid));
    } else {
        EXPECT_EQ(left_a.st_uid, ::geteuid());
        EXPECT_EQ(left_b.st_uid, ::geteuid());
    }
    EXPECT_EQ(a.wait(), 0) << a.output();
    EXPECT_EQ(b.wait(), 0) << b.output();
    const json ra = read_report(dir.path() + "/report-a.json"), rb = read_report(dir.path() + "/report-b.json");
    EXPECT_EQ(ra["host_uid"], left_a.st_uid) << ra.dump();
    EXPECT_EQ(rb["host_gid"], left_b.st_gid) << rb.dump();
    if (running_as_root()) {
        EXPECT_TRUE(lease_is_free(left_a.st_uid)) << "the lease outlived its run";
        EXPECT_TRUE(lease_is_free(left_b.st_uid));
    }
}

// A root of a user namespace that maps uid 0 alone (`unshare -r`, as some CI runners and
// container tools start their payload): 65534 does not exist there, so its sandbox is
// mapped onto the caller's own ids, as an ordinary caller's is (writing a map that names
// 65534 was refused with EPERM and the run failed).
TEST(HostIdentity, RootOfANamespaceMappingOnlyUidZeroRunsAsItself) {
    AJ_REQUIRE_SANDBOX();
    const std::string unshare = "/usr/bin/unshare";
    if (!std::filesystem::exists(unshare) || run_process({unshare, "-r", "/bin/true"}).exit_code != 0)
        GTEST_SKIP() << "unshare -r (a user namespace of our own) is not available here";
    TempDir dir;
    const std::string report = dir.path() + "/report.json";
    auto r = run_process({unshare, "-r", aj_bin(), "run", "--workdir", dir.path(), "--report", report, "--", "/bin/sh",
                          "-c", "id -u; touch made"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "65534\n");
    const json run = read_report(report);
    EXPECT_EQ(run["mode"], "namespaces") << run.dump();
    EXPECT_EQ(run["host_uid"], 0) << "uid 0 of the caller's namespace: " << run.dump();
    // On the host, the file is the caller's own.
    EXPECT_EQ(stat_of(dir.path() + "/made").st_uid, ::geteuid());
}

TEST(HostIdentity, WorkdirOwnedByAUserGetsFilesOwnedByThatUser) {
    AJ_REQUIRE_SANDBOX();
    if (!running_as_root()) GTEST_SKIP() << "an ordinary caller's sandbox is the caller: no idmapped binds";
    TempDir dir;
    ::chmod(dir.path().c_str(), 0755);
    const std::string work = dir.path() + "/work";
    ASSERT_EQ(::mkdir(work.c_str(), 0755), 0);
    constexpr uid_t kOwner = 4242;  // some user; only it may write there
    constexpr gid_t kGroup = 4243;
    ASSERT_EQ(::chown(work.c_str(), kOwner, kGroup), 0);
    auto policy = write_policy(dir);
    const std::string report = dir.path() + "/report.json";
    auto r = run_aj(sh_args(policy, "echo hi > made && mkdir sub && touch sub/file && stat -c %u:%g made",
                            {"--workdir", work, "--report", report}));
    if (r.err.find("cannot be idmapped") != std::string::npos)
        GTEST_SKIP() << "this file system has no idmapped mounts: " << r.err;
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "65534:65534\n") << "inside, the sandbox owns its workdir";
    for (const char* name : {"/made", "/sub", "/sub/file"}) {
        const struct stat st = stat_of(work + name);
        EXPECT_EQ(st.st_uid, kOwner) << name;
        EXPECT_EQ(st.st_gid, kGroup) << name;
    }
    const json j = read_report(report);
    EXPECT_EQ(j["enforced"]["identity"]["idmapped_binds"].size(), 1u) << j.dump();
    EXPECT_NE(j["host_uid"], kOwner);
}

TEST(HostIdentity, RootOwnedRwPathIsNeverMappedToRoot) {
    AJ_REQUIRE_SANDBOX();
    if (!running_as_root()) GTEST_SKIP() << "root callers only";
    TempDir dir;
    ::chmod(dir.path().c_str(), 0755);  // root's: the sandbox may not write here
    auto policy = write_policy(dir, {{"allowed_paths", {{{"path", dir.path()}, {"mode", "rw"}}}}});
    auto r = run_aj(probe_args(policy, "write", {dir.path() + "/new"}));
    EXPECT_EQ(r.out, "EACCES\n") << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir.path() + "/new"));
}

TEST(HostIdentity, PluginRunLeavesFilesOwnedByItsHostIds) {
    AJ_REQUIRE_SANDBOX();
    PluginEnv env;
    env.tmp.write("pkg/manifest.json", R"({"id":"leaver","name":"Leaver","version":"1.0","entrypoint":"run.sh"})");
    env.tmp.write("pkg/run.sh", "#!/bin/sh\necho left > /work/left\n", 0755);
    ASSERT_EQ(env.aj({"stage", env.pkg}).exit_code, 0);
    const std::string report = env.tmp.path() + "/report.json";
    auto r = env.aj({"run", "--plugin", "leaver", "--report", report});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json j = read_report(report);
    const struct stat st = stat_of(j.value("run_dir", std::string()) + "/work/left");
    EXPECT_EQ(j["host_uid"], st.st_uid) << j.dump();
    EXPECT_EQ(j["host_gid"], st.st_gid) << j.dump();
    if (running_as_root()) {
        expect_leased(st.st_uid, st.st_gid);
        EXPECT_TRUE(lease_is_free(st.st_uid));
    } else {
        EXPECT_EQ(st.st_uid, ::geteuid());
    }
}

TEST(HostIdentity, StatusShowsABackgroundRunsHostIds) {
    AJ_REQUIRE_SANDBOX();
    PluginEnv env;
    auto r = env.aj({"run", "--detach", "--", "/bin/true"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string id = r.out.substr(0, r.out.find('\n'));
    json st;
    ASSERT_TRUE(eventually(
        [&] {
            st = json::parse(env.aj({"status", "--json", id}).out, nullptr, false);
            return st.is_object() && st["state"] == "exited";
        },
        kSlowCeiling))
        << st.dump();
    ASSERT_TRUE(st["host_uid"].is_number()) << st.dump();
    const uid_t uid = st["host_uid"].get<uid_t>();
    EXPECT_EQ(st["report"]["host_uid"], uid) << st.dump();
    if (running_as_root()) {
        expect_leased(uid, st["host_gid"].get<gid_t>());
        EXPECT_TRUE(lease_is_free(uid));
    } else {
        EXPECT_EQ(uid, ::geteuid());
    }
    const auto text = env.aj({"status", id});
    EXPECT_NE(text.out.find("\tuid=" + std::to_string(uid) + ":"), std::string::npos) << text.out;
}

// How many 8 KiB message queues a root process limited to `limit` bytes can create now:
// the kernel counts every queue charged to root against that limit.
int root_mqueue_capacity(rlim_t limit) {
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) return -1;
    pid_t child = ::fork();
    if (child == 0) {
        int n = 0;
        const rlimit lim{limit, limit};
        // A private IPC namespace: the queues vanish with this child.
        if (::unshare(CLONE_NEWIPC) == 0 && ::setrlimit(RLIMIT_MSGQUEUE, &lim) == 0) {
            mq_attr attr{};
            attr.mq_maxmsg = 1;
            attr.mq_msgsize = 8192;
            while (n < 10000 &&
                   ::mq_open(("/aj-cap-" + std::to_string(n)).c_str(), O_RDWR | O_CREAT | O_EXCL, 0600, &attr) >= 0)
                ++n;
        }
        (void)!::write(pipefd[1], &n, sizeof n);
        ::_exit(0);
    }
    ::close(pipefd[1]);
    int n = -1;
    (void)!::read(pipefd[0], &n, sizeof n);
    ::close(pipefd[0]);
    ::waitpid(child, nullptr, 0);
    return n;
}

long held_count(const std::string& output) {
    const auto at = output.find("held ");
    return at == std::string::npos ? -1 : std::stol(output.substr(at + 5));
}

class HostQuota : public testing::Test {
protected:
    void SetUp() override {
        AJ_REQUIRE_SANDBOX();
        if (!running_as_root()) GTEST_SKIP() << "an ordinary caller's sandbox is charged to the caller, as it was";
    }
    TempDir dir;
};

TEST_F(HostQuota, SandboxExhaustingInotifyLeavesRootItsOwn) {
    Spawned run(probe_args(write_policy(dir), "fill-inotify", {"4"}));
    ASSERT_TRUE(run.wait_for("held ")) << run.output();
    EXPECT_GT(held_count(run.output()), 0) << run.output();
    // During the run, the sandbox holding every instance it may have:
    int fd = ::inotify_init1(IN_CLOEXEC);
    EXPECT_GE(fd, 0) << "root cannot create an inotify instance while the sandbox runs: " << std::strerror(errno);
    if (fd >= 0) ::close(fd);
    EXPECT_EQ(run.wait(), 0) << run.output();
    fd = ::inotify_init1(IN_CLOEXEC);
    EXPECT_GE(fd, 0) << std::strerror(errno);
    if (fd >= 0) ::close(fd);
}

TEST_F(HostQuota, SandboxExhaustingMqueueBytesLeavesRootItsOwn) {
    constexpr rlim_t kProbeLimit = 512 * 1024;  // below the hard limit: root lacks CAP_SYS_RESOURCE here
    const int before = root_mqueue_capacity(kProbeLimit);
    ASSERT_GT(before, 0) << "root's message queues already use the whole probe limit";
    Spawned run(probe_args(write_policy(dir), "fill-mqueue", {"4"}));
    ASSERT_TRUE(run.wait_for("held ")) << run.output();
    EXPECT_GT(held_count(run.output()), 0) << run.output();
    EXPECT_EQ(root_mqueue_capacity(kProbeLimit), before) << "the sandbox's queues were charged to root";
    EXPECT_EQ(run.wait(), 0) << run.output();
    EXPECT_EQ(root_mqueue_capacity(kProbeLimit), before);
}

}  // namespace
}  // namespace aj::test
