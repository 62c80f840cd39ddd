// rlimit-only mode keeps the README's promises, row by row (issue 12 item 6), with the
// fallback forced for real (tests/integration/fallback_no_userns.hpp: a seccomp filter
// refusing namespace creation, as container runtimes have): "network": "none" without a
// network namespace, nothing of a run outliving it without a pid namespace, read-only
// paths for metadata, and a warning and report that list what the mode lacks.
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "tests/integration/fallback_no_userns.hpp"
#include "tests/support/jail.hpp"

namespace aj::test {
namespace {

ProcessResult run_fallback(const std::vector<std::string>& aj_args) {
    std::vector<std::string> argv = {aj_bin()};
    argv.insert(argv.end(), aj_args.begin(), aj_args.end());
    return run_process(without_namespaces(argv), "", {}, 90);
}

nlohmann::json read_json(const std::string& path) {
    std::ifstream in(path);
    return nlohmann::json::parse(in);
}

// A unix stream socket listening at `path`, accepting nothing (connect() still succeeds
// into the backlog, which is all a probe needs to see).
class UnixListener {
public:
    explicit UnixListener(const std::string& path) {
        fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
        if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 8) != 0)
            throw std::runtime_error("unix listener at " + path + ": " + std::strerror(errno));
        ::chmod(path.c_str(), 0777);  // a root caller's command runs as uid 65534
    }
    ~UnixListener() { ::close(fd_); }
    UnixListener(const UnixListener&) = delete;
    UnixListener& operator=(const UnixListener&) = delete;

private:
    int fd_ = -1;
};

bool alive(pid_t pid) {
    // A zombie would still answer kill(pid, 0): look at its state too.
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return false;
    auto close_paren = line.rfind(')');
    return close_paren != std::string::npos && close_paren + 2 < line.size() && line[close_paren + 2] != 'Z';
}

TEST(FallbackNetwork, NoneRefusesEveryFamilyButUnix) {
    TempDir dir;
    auto policy = write_policy(dir);  // "network" defaults to "none"
    struct Case {
        const char* what;
        std::vector<std::string> args;
        const char* want;
    } cases[] = {
        {"tcp", {"2", "1", "0"}, "EAFNOSUPPORT"},
        {"mptcp", {"2", "1", "262"}, "EAFNOSUPPORT"},
        {"tcp6", {"10", "1", "0"}, "EAFNOSUPPORT"},
        {"udp (refused either way)", {"2", "2", "0"}, "E"},
        {"netlink", {"16", "3", "0"}, "EAFNOSUPPORT"},
        {"unix datagram", {"1", "2", "0"}, "EACCES"},
        {"unix stream", {"1", "1", "0"}, "ok"},
    };
    for (const auto& c : cases) {
        auto r = run_fallback(probe_args(policy, "socket", c.args));
        EXPECT_EQ(r.exit_code, 0) << c.what << ": " << r.err;
        EXPECT_EQ(r.out.substr(0, std::string(c.want).size()), c.want) << c.what << ": " << r.out;
    }
}

TEST(FallbackNetwork, HostNetworkPolicyKeepsInetSockets) {
    TempDir dir;
    auto policy = write_policy(dir, {{"network", "host"}});
    auto r = run_fallback(probe_args(policy, "socket", {"2", "1", "0"}));
    EXPECT_EQ(r.out.rfind("ok", 0), 0u) << r.out << r.err;
}

TEST(FallbackNetwork, UnixSocketFileOutsideThePolicyRefusesConnect) {
    TempDir dir, hidden;
    ::chmod(hidden.path().c_str(), 0755);
    const std::string sock = hidden.path() + "/host.sock";
    UnixListener listener(sock);
    auto policy = write_policy(dir);
    auto r = run_fallback(probe_args(policy, "unix-connect", {sock}));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "EACCES\n") << "a host unix socket accepted a connection from a network-none sandbox";
}

// The command's daemon (setsid, its own session) is gone when `run` returns: after a normal
// exit and after the timeout. Without a pid namespace or a writable cgroup (uid 65534 here)
// only the runner, as child subreaper, can find it.
TEST(FallbackLifetime, DaemonizedDescendantsDieWithTheRun) {
    for (const bool timeout : {false, true}) {
        TempDir dir;
        ::chmod(dir.path().c_str(), 0777);
        const std::string pidfile = dir.path() + "/daemon.pid";
        auto policy = write_policy(dir, {{"allowed_paths", {{{"path", dir.path()}, {"mode", "rw"}}}}});
        const std::string script = "setsid sh -c 'echo $$ > " + pidfile + ".new && mv " + pidfile + ".new " + pidfile +
                                   "; exec sleep 300' & while [ ! -e " + pidfile + " ]; do sleep 0.05; done" +
                                   (timeout ? "; sleep 60" : "");
        std::vector<std::string> options;
        if (timeout) options = {"--timeout", "1"};
        auto r = run_fallback(sh_args(policy, script, options));
        EXPECT_EQ(r.exit_code, timeout ? 124 : 0) << r.err;
        std::ifstream in(pidfile);
        pid_t daemon = 0;
        ASSERT_TRUE(in >> daemon) << "the daemon never wrote its pid: " << r.err;
        const bool survived = alive(daemon);
        if (survived) ::kill(daemon, SIGKILL);  // ours: started by this test
        EXPECT_FALSE(survived) << "daemon " << daemon << " outlived the run (timeout " << timeout << ")";
    }
}

// Landlock does not cover metadata: without a writable path granted, seccomp refuses the
// calls, so a read-only path's file the sandbox uid owns keeps its mode, times, xattrs.
TEST(FallbackReadOnly, MetadataOfOwnFilesOnReadOnlyPathsIsRefused) {
    TempDir dir;
    const std::string file = dir.write("owned", "x", 0644);
    if (running_as_root()) {
        ASSERT_EQ(::chown(file.c_str(), 65534, 65534), 0);  // the sandbox's uid
    }
    ::chmod(dir.path().c_str(), 0755);
    auto policy = write_policy(dir, {{"allowed_paths", {dir.path()}}});
    for (const char* probe : {"chmod", "utime", "setxattr"}) {
        auto r = run_fallback(probe_args(policy, probe, {file}));
        EXPECT_EQ(r.exit_code, 0) << probe << ": " << r.err;
        EXPECT_EQ(r.out, "EPERM\n") << probe << " on a read-only path's own file";
    }
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0644u);
}

// The warning and the report list every protection the run lacks, limit by limit, in
// agreement with the backends the report names.
TEST(FallbackReport, NotEnforcedListsWhatThisRunLacks) {
    TempDir dir;
    const std::string report = dir.path() + "/report.json";
    auto policy = write_policy(dir, {{"max_cpus", 0.5}, {"max_memory_mb", 4096}, {"max_pids", 64}, {"max_cpu_sec", 30}});
    auto r = run_fallback({"run", "--policy", policy, "--report", report, "--", "true"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    nlohmann::json j = read_json(report);
    const nlohmann::json& limits = j["enforced"]["limits"];
    std::string listed;
    for (const auto& n : j["enforced"]["not_enforced"]) listed += n.get<std::string>() + "\n";
    auto cgroup_backed = [&](const char* key) {
        return limits.contains(key) && limits[key].value("backend", "").rfind("cgroup", 0) == 0;
    };
    const std::pair<const char*, const char*> rows[] = {
        {"cpus", "max_cpus"}, {"memory_mb", "kernel memory under max_memory_mb"}, {"pids", "max_pids exactly"}};
    for (const auto& [key, text] : rows) {
        EXPECT_EQ(listed.find(text) == std::string::npos, cgroup_backed(key)) << key << "\n" << listed << limits.dump();
        EXPECT_EQ(r.err.find(text) == std::string::npos, cgroup_backed(key)) << key << "\n" << r.err;
    }
    EXPECT_NE(listed.find("network namespace"), std::string::npos) << listed;
    if (!cgroup_backed("pids")) {
        // Approximate, with the numbers it rests on.
        ASSERT_TRUE(limits["pids"].contains("uid_tasks_at_start")) << limits.dump();
        EXPECT_EQ(limits["pids"]["rlimit_nproc"].get<std::uint64_t>(),
                  limits["pids"]["uid_tasks_at_start"].get<std::uint64_t>() + 64)
            << limits.dump();
    }
}

// Some container runtimes' seccomp profiles answer EPERM (not ENOSYS) for clone3, so the
// C library makes no thread. A run there used to end in "internal error: Operation not
// permitted" (the CPU-time watch is a thread); a forked watch takes its place.
TEST(Clone3Eperm, RunsAndStillWatchesCpuTime) {
    TempDir dir;
    const std::string report = dir.path() + "/report.json";
    auto policy = write_policy(dir, {{"max_cpu_sec", 1}, {"max_memory_mb", 256}});
    const std::string spin = "sh -c 'while :; do :; done'";
    auto r = run_process(with_clone3_eperm({aj_bin(), "run", "--policy", policy, "--report", report, "--", "sh", "-c",
                                            spin + " & " + spin + "; wait"}),
                         "", {}, 90);
    EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
    nlohmann::json j = read_json(report);
    // The watch reads the cgroup's CPU time where there is one, else the accounting's.
    const nlohmann::json& e = j["enforced"];
    const nlohmann::json cg = e.value("cgroup", nlohmann::json::object());
    const nlohmann::json watched = cg.contains("cpu_time_exceeded") && cg.value("cpu_time", "none") != "none"
                                       ? cg
                                       : e.value("accounting", nlohmann::json::object());
    ASSERT_TRUE(watched.contains("cpu_time_exceeded")) << e.dump();
    EXPECT_EQ(watched["cpu_time_exceeded"], true) << e.dump() << r.err;
    EXPECT_EQ(r.exit_code, 137) << r.err;
}

// max_pids without a pids cgroup (an ordinary user here; root in a mount namespace
// without cgroups): RLIMIT_NPROC counts every task of the uid on the host, and the watch
// names the limit once that count reached it.
TEST(FallbackReport, PidsReachedWithoutACgroupAreNamed) {
    TempDir dir;
    const std::string report = dir.path() + "/report.json";
    auto policy = write_policy(dir, {{"max_pids", 8}});
    auto r = run_process(without_cgroups(without_namespaces(
                             {aj_bin(), "run", "--policy", policy, "--report", report, "--", "python3", "-c",
                              kPythonForks20})),
                         "", {}, 90);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const nlohmann::json j = read_json(report);
    const nlohmann::json& pids = j["enforced"]["limits"]["pids"];
    if (pids.value("backend", "").rfind("cgroup", 0) == 0) GTEST_SKIP() << "a pids cgroup holds max_pids: " << pids.dump();
    EXPECT_EQ(j.value("mode", ""), "rlimit-only") << j.dump();
    EXPECT_NE(r.out.find("fork refused after"), std::string::npos) << r.out << r.err;
    EXPECT_EQ(pids.value("hit", false), true) << pids.dump();
    EXPECT_NE(pids.value("hit_by", "").find("of the uid on the host reached RLIMIT_NPROC ("), std::string::npos)
        << pids.dump();
    EXPECT_NE(r.err.find("aurora-jail: limit hit: max_pids 8 ("), std::string::npos) << r.err;
}

// The forked watch (no thread could be made) sees a shell's child killed by SIGXFSZ too,
// without its name (the pins were the forked watch's).
TEST(Clone3Eperm, ForkedWatchSeesAChildKilledBySigxfsz) {
    TempDir dir;
    const std::string report = dir.path() + "/report.json";
    auto policy = write_policy(dir, {{"max_file_size_mb", 1}});
    auto r = run_process(with_clone3_eperm({aj_bin(), "run", "--policy", policy, "--report", report, "--", "sh", "-c",
                                            "sh -c 'sleep 0.5; exec head -c 2097152 /dev/zero' > /tmp/f; echo rc=$?"}),
                         "", {}, 90);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("rc=153"), std::string::npos) << r.out;
    const nlohmann::json j = read_json(report);
    // Unnamed: only the forked watch says it so (the thread's pins give "(sh)" or "(head)").
    EXPECT_NE(j["enforced"]["limits"]["file_size_mb"].value("hit_by", "").find("a process of the sandbox was killed "
                                                                              "by SIGXFSZ"),
              std::string::npos)
        << j["enforced"]["limits"].dump();
}

}  // namespace
}  // namespace aj::test
