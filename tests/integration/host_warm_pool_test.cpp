// The host daemon's warm pool (`host --warm N`, runner/warm_pool.hpp), end to end: a
// sandbox built before its request serves that one request and sees nothing of another
// (files, environment, processes, descriptors);
// a restaged plugin is never served by a sandbox built for the old one; a drain or a
// SIGKILL leaves no warm sandbox behind.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/plugin_support.hpp"
#include "tests/support/jail.hpp"

namespace fs = std::filesystem;
using aj::test::Daemon;
using aj::test::PluginEnv;

namespace {

std::size_t run_dirs(const PluginEnv& env) {
    std::error_code ec;
    std::size_t n = 0;
    for (const auto& e : fs::directory_iterator(env.state + "/runs", ec)) n += e.is_directory();
    return n;
}

// Submits with --wait; returns the result and sets `name` to the request's name (the
// client prints it on stderr).
aj::test::ProcessResult submit_wait(const PluginEnv& env, std::vector<std::string> args, std::string* name) {
    args.insert(args.begin(), {"submit", "--plugin", "acme.testpkg", "--wait", "--wait-timeout", "120"});
    aj::test::ProcessResult r = env.aj(args);
    std::smatch m;
    static const std::regex submitted("submitted (\\S+)");
    if (name) *name = std::regex_search(r.err, m, submitted) ? m[1].str() : "";
    return r;
}

// Whether the daemon's log says request `name` was served by a warm sandbox.
bool served_warm(const Daemon& daemon, const std::string& name) {
    return !name.empty() && daemon.log().find(name + ": plugin acme.testpkg rc=0 (warm)") != std::string::npos;
}

// The processes whose command line names `needle` (the daemon, its launcher and run
// processes, which are forks of it and keep its command line).
std::size_t processes_naming(const std::string& needle) {
    std::size_t n = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/proc", ec)) {
        const std::string pid = e.path().filename();
        if (pid.find_first_not_of("0123456789") != std::string::npos || pid == std::to_string(::getpid())) continue;
        n += aj::test::slurp(e.path().string() + "/cmdline").find(needle) != std::string::npos;
    }
    return n;
}

// The parent of each process, from /proc/PID/stat.
std::map<pid_t, std::vector<pid_t>> children_by_parent() {
    std::map<pid_t, std::vector<pid_t>> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/proc", ec)) {
        const std::string pid = e.path().filename();
        if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
        const std::string stat = aj::test::slurp(e.path().string() + "/stat");
        const std::size_t close = stat.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream rest(stat.substr(close + 1));
        std::string state;
        pid_t ppid = 0;
        if (rest >> state >> ppid) out[ppid].push_back(std::stoi(pid));
    }
    return out;
}

std::vector<pid_t> subtree(pid_t top, const std::map<pid_t, std::vector<pid_t>>& children) {
    std::vector<pid_t> out{top};
    for (std::size_t i = 0; i < out.size(); ++i)
        if (auto it = children.find(out[i]); it != children.end()) out.insert(out.end(), it->second.begin(), it->second.end());
    return out;
}

// The pipes and sockets `pid` holds ("pipe:[N]", "socket:[N]") from descriptor `first`
// on; none when its descriptors cannot be read (a sandbox's process, for an ordinary
// caller).
std::set<std::string> channels_of(pid_t pid, int first = 0) {
    std::set<std::string> out;
    std::error_code ec;
    for (const auto& fd : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
        if (std::stoi(fd.path().filename().string()) < first) continue;
        std::error_code link_ec;
        const std::string target = fs::read_symlink(fd.path(), link_ec).string();
        if (target.rfind("pipe:", 0) == 0 || target.rfind("socket:", 0) == 0) out.insert(target);
    }
    return out;
}

// "socket:[INODE]" -> type (1 stream, 2 datagram, 5 seqpacket) of every unix socket of
// this network namespace.
std::map<std::string, int> unix_socket_types() {
    std::map<std::string, int> out;
    std::istringstream in(aj::test::slurp("/proc/net/unix"));
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
        std::istringstream f(line);
        std::string num, refs, proto, flags, type, st, inode;
        if (f >> num >> refs >> proto >> flags >> type >> st >> inode)
            out["socket:[" + inode + "]"] = std::stoi(type, nullptr, 16);
    }
    return out;
}

// What the daemon's launcher and run processes hold that they must not: a pipe or socket
// held below two run processes (one request's, or one warm sandbox's, reaching another),
// or, in the launcher itself, a pipe or a stream socket (an order's reply socket and
// pipes are handed on, never kept: its own are its control and pool sockets, seqpacket).
std::vector<std::string> descriptor_leaks(pid_t daemon, std::size_t* run_processes) {
    std::vector<std::string> leaks;
    const auto children = children_by_parent();
    const auto types = unix_socket_types();
    *run_processes = 0;
    const auto launchers = children.find(daemon);
    if (launchers == children.end()) return {"the daemon has no launcher"};
    for (pid_t launcher : launchers->second) {
        // Its stdio is the daemon's (this test's stdin, say).
        for (const std::string& c : channels_of(launcher, 3)) {
            const auto type = types.find(c);
            if (c.rfind("pipe:", 0) == 0 || (type != types.end() && type->second != 5))
                leaks.push_back("the launcher holds " + c);
        }
        const auto runs = children.find(launcher);
        if (runs == children.end()) continue;
        std::map<std::string, pid_t> owner;  // channel -> the run process below which it was seen
        for (pid_t run : runs->second) {
            ++*run_processes;
            std::set<std::string> held;
            for (pid_t p : subtree(run, children))
                for (const std::string& c : channels_of(p)) held.insert(c);
            for (const std::string& c : held) {
                const auto [it, fresh] = owner.emplace(c, run);
                if (!fresh)
                    leaks.push_back(c + " is held below run processes " + std::to_string(it->second) + " and " +
                                    std::to_string(run));
            }
        }
    }
    return leaks;
}

// The run directory whose work/ holds `marker` (a sandbox's /work), or "".
std::string run_dir_with(const PluginEnv& env, const std::string& marker) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(env.state + "/runs", ec))
        if (fs::exists(e.path() / "work" / marker)) return e.path().string();
    return "";
}

const char* kLook =
    "cat /tmp/marker /work/marker 2>&1; "
    "for f in /proc/[0-9]*/cmdline; do tr '\\000' ' ' < $f; echo; done; echo ENV; env | sort";

}  // namespace

// Request A runs cold (the first of its plugin) and leaves traces everywhere it can: its
// /tmp, its /work, a process whose command line carries a marker. Request B, served by a
// warm sandbox built while A ran, must see none of them, and the environment a cold run
// gets.
TEST(HostWarmPool, WarmSandboxServesOneRequestAndSeesNothingOfAnother) {
    AJ_REQUIRE_SANDBOX();
    PluginEnv env;
    env.stage("acme.testpkg");
    Daemon daemon(env, 2, 2);
    auto a = env.aj({"submit", "--plugin", "acme.testpkg", "--", "/bin/sh", "-c",
                     "echo marker-a > /tmp/marker; echo marker-a > /work/marker; exec sh -c 'sleep 9' marker-a"});
    ASSERT_EQ(a.exit_code, 0) << a.err;
    auto a_is_up = [&] {
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(env.state + "/runs", ec))
            if (fs::exists(e.path() / "work" / "marker")) return true;
        return false;
    };
    ASSERT_TRUE(aj::test::eventually(a_is_up, aj::test::kSlowCeiling)) << daemon.log();

    // The pool fills once A was handed over; B is retried until a warm sandbox took it.
    std::string name, warm_out;
    for (int attempt = 0; attempt < 20 && !served_warm(daemon, name); ++attempt) {
        if (attempt) std::this_thread::sleep_for(std::chrono::milliseconds(300));
        auto b = submit_wait(env, {"--", "/bin/sh", "-c", kLook}, &name);
        ASSERT_EQ(b.exit_code, 0) << b.err << daemon.log();
        EXPECT_EQ(b.out.find("marker-a"), std::string::npos) << "a sandbox saw another request:\n" << b.out;
        warm_out = b.out;
    }
    ASSERT_TRUE(served_warm(daemon, name)) << "no request was served warm:\n" << daemon.log();
    EXPECT_NE(warm_out.find("/tmp/marker: No such file"), std::string::npos) << warm_out;
    EXPECT_NE(warm_out.find("/work/marker: No such file"), std::string::npos) << warm_out;

    // A request with a timeout of its own is never served warm: the environment it sees
    // is a cold run's, and the warm one's must be the same.
    std::string cold_name;
    auto cold = submit_wait(env, {"--timeout", "9", "--", "/bin/sh", "-c", kLook}, &cold_name);
    ASSERT_EQ(cold.exit_code, 0) << cold.err;
    EXPECT_FALSE(served_warm(daemon, cold_name));
    auto env_part = [](const std::string& out) { return out.substr(out.find("ENV\n")); };
    EXPECT_EQ(env_part(warm_out), env_part(cold.out));

    daemon.signal(SIGTERM);
    EXPECT_EQ(daemon.wait(), 0) << daemon.log();
}

// A warm sandbox holds the staged directory and policy it was built with: after a
// restage, a request (the entrypoint, which changed) must run the new version.
TEST(HostWarmPool, RestagedPluginIsNeverServedByAnOlderWarmSandbox) {
    AJ_REQUIRE_SANDBOX();
    PluginEnv env;
    env.stage("acme.testpkg");
    Daemon daemon(env, 1, 1);
    std::string name;
    auto first = submit_wait(env, {}, &name);
    ASSERT_EQ(first.exit_code, 0) << first.err << daemon.log();
    EXPECT_EQ(first.out, "hello-sandbox\ncwd=/work\n");
    bool stale_seen = false;
    for (int version = 2; version < 8 && !stale_seen; ++version) {
        std::this_thread::sleep_for(std::chrono::seconds(1));  // a warm sandbox gets ready
        const std::string v = "v" + std::to_string(version);
        env.tmp.write("pkg/run.sh", "#!/bin/sh\necho " + v + "\n", 0755);
        auto staged = env.aj({"stage", env.pkg});
        ASSERT_EQ(staged.exit_code, 0) << staged.err;
        auto r = submit_wait(env, {}, &name);
        ASSERT_EQ(r.exit_code, 0) << r.err << daemon.log();
        EXPECT_EQ(r.out, v + "\n") << "an older version of the plugin ran";
        stale_seen = daemon.log().find("was stale") != std::string::npos;
    }
    EXPECT_TRUE(stale_seen) << "no warm sandbox was ever found stale:\n" << daemon.log();
    daemon.signal(SIGTERM);
    EXPECT_EQ(daemon.wait(), 0) << daemon.log();
}

// Draining removes the warm sandboxes (nothing ran in them); a SIGKILLed daemon leaves
// none running, and the next start removes their run directories.
TEST(HostWarmPool, DrainAndSigkillLeaveNoWarmSandbox) {
    AJ_REQUIRE_SANDBOX();
    PluginEnv env;
    env.stage("acme.testpkg");
    for (int sig : {SIGTERM, SIGKILL}) {
        {
            Daemon daemon(env, 1, 2);
            auto r = submit_wait(env, {"--", "/bin/true"}, nullptr);
            ASSERT_EQ(r.exit_code, 0) << r.err << daemon.log();
            // The two warm sandboxes' run directories (their requests' /work).
            ASSERT_TRUE(aj::test::eventually([&] { return run_dirs(env) == 2; }, aj::test::kSlowCeiling))
                << run_dirs(env) << " run directories\n" << daemon.log();
            daemon.signal(sig);
            EXPECT_EQ(daemon.wait(), sig == SIGTERM ? 0 : 128 + SIGKILL) << daemon.log();
        }
        // Every process of that daemon is a fork of it, with its command line.
        EXPECT_TRUE(aj::test::eventually([&] { return processes_naming(env.state) == 0; }, std::chrono::seconds(60)))
            << "a warm run process outlived its daemon (signal " << sig << ")";
        if (sig == SIGTERM) {
            EXPECT_EQ(run_dirs(env), 0u) << "draining left warm sandboxes' run directories";
        } else {
            Daemon next(env, 1);
            ASSERT_TRUE(next.wait_serving()) << next.log();
            EXPECT_EQ(run_dirs(env), 0u) << next.log();
            next.signal(SIGTERM);
            EXPECT_EQ(next.wait(), 0) << next.log();
        }
    }
}

// Descriptors: a request's pipes and reply socket reach its own run process alone. While
// a cold request runs, a warm sandbox serves another and more wait in the pool, no pipe
// or socket is held below two run processes, the launcher keeps none of an order's, and
// the warm command holds exactly what a cold one does: stdin, stdout, stderr.
TEST(HostWarmPool, PooledSandboxesHoldNoDescriptorOfAnotherRequest) {
    AJ_REQUIRE_SANDBOX();
    PluginEnv env;
    env.stage("acme.testpkg");
    Daemon daemon(env, 2, 2);
    // The plugin's pool fills at its first request that a pool may serve (run cold).
    ASSERT_EQ(submit_wait(env, {"--", "/bin/true"}, nullptr).exit_code, 0) << daemon.log();
    // Cold (a timeout of its own), and running through the rest of the test.
    auto a = env.aj({"submit", "--plugin", "acme.testpkg", "--timeout", "120", "--", "/bin/sh", "-c",
                     "echo up > /work/a-up; exec sleep 100"});
    ASSERT_EQ(a.exit_code, 0) << a.err;
    ASSERT_TRUE(aj::test::eventually([&] { return !run_dir_with(env, "a-up").empty(); }, aj::test::kSlowCeiling))
        << daemon.log();
    // A's run directory and the two warm sandboxes'.
    ASSERT_TRUE(aj::test::eventually([&] { return run_dirs(env) == 3; }, aj::test::kSlowCeiling)) << daemon.log();

    const char* kListFds = "ls /proc/$$/fd; echo up > /work/$0; sleep 3";
    std::string name, warm_fds;
    bool checked_while_serving = false;
    for (int attempt = 0; attempt < 10 && !served_warm(daemon, name); ++attempt) {
        if (attempt) std::this_thread::sleep_for(std::chrono::milliseconds(500));
        const std::string marker = "b-up-" + std::to_string(attempt);
        auto b = env.aj({"submit", "--plugin", "acme.testpkg", "--", "/bin/sh", "-c", kListFds, marker});
        ASSERT_EQ(b.exit_code, 0) << b.err;
        name = b.out.substr(0, b.out.find('\n'));
        ASSERT_TRUE(aj::test::eventually([&] { return !run_dir_with(env, marker).empty(); }, aj::test::kSlowCeiling))
            << daemon.log();
        std::size_t runs = 0;
        const std::vector<std::string> leaks = descriptor_leaks(daemon.pid(), &runs);
        for (const std::string& leak : leaks) ADD_FAILURE() << leak;
        EXPECT_GE(runs, 2u) << "A and B at least";
        const std::string response = env.queue("responses") + "/" + name + ".result.json";
        ASSERT_TRUE(aj::test::eventually([&] { return fs::exists(response); }, aj::test::kSlowCeiling)) << daemon.log();
        // Logged right after the response is written.
        ASSERT_TRUE(aj::test::eventually([&] { return daemon.log().find(name + ": plugin") != std::string::npos; },
                                         aj::test::kSlowCeiling));
        warm_fds = nlohmann::json::parse(aj::test::slurp(response))["stdout"].get<std::string>();
        checked_while_serving = true;
    }
    ASSERT_TRUE(checked_while_serving);
    ASSERT_TRUE(served_warm(daemon, name)) << "no request was served warm:\n" << daemon.log();
    EXPECT_EQ(warm_fds, "0\n1\n2\n") << "a warm sandbox's command holds more than its stdio";
    std::string cold_name;
    auto cold = submit_wait(env, {"--timeout", "30", "--", "/bin/sh", "-c", kListFds, "cold-up"}, &cold_name);
    ASSERT_EQ(cold.exit_code, 0) << cold.err;
    EXPECT_FALSE(served_warm(daemon, cold_name));
    EXPECT_EQ(cold.out, warm_fds);
}
