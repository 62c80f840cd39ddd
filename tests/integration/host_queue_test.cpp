// The host daemon end to end: real sandboxes, real queue directory, real signals.
// Every request must be answered exactly once, whatever is thrown at the daemon.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "policy/error.hpp"
#include "runner/queue.hpp"
#include "tests/integration/plugin_support.hpp"
#include "tests/support/jail.hpp"

namespace fs = std::filesystem;
using aj::test::Daemon;
using aj::test::PluginEnv;
using nlohmann::json;

namespace {

// Responses a client may read: the daemon writes each one to a hidden ".NAME.tmp-*" file
// first and renames it into place, so a listing taken mid-write sees that temporary too.
std::size_t answered(const PluginEnv& env) {
    std::size_t n = 0;
    for (const std::string& f : env.files(env.queue("responses"))) n += f.front() != '.';
    return n;
}

// A plugin whose policy binds a shared "ledger" directory read-write, so every request
// can leave a trace proving how many times it really ran.
struct LedgerEnv : PluginEnv {
    std::string ledger = tmp.path() + "/ledger";

    LedgerEnv() {
        fs::create_directory(ledger);
        ::chmod(ledger.c_str(), 0777);
        // Every root caller's sandbox is a host uid of its own: the one file they all
        // append to must be writable by all of them.
        ::chmod(tmp.write("ledger/log", "").c_str(), 0666);
        fs::create_directories(state + "/policies");
        tmp.write("state/policies/ledger.json",
                  R"({"allowed_paths": ["/usr", "/bin", "/lib", "/lib64", {"path": ")" + ledger + R"(", "mode": "rw"}]})");
        stage("ledger", "\"run.sh\"", R"(, "policy": "ledger")");
    }

    // Submits a request that appends `token` to the ledger; returns the request name.
    std::string submit_token(const std::string& token) const {
        auto r = aj({"submit", "--plugin", "ledger", "--", "/bin/sh", "-c", "echo " + token + " >> " + ledger + "/log"});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return r.out.substr(0, r.out.find('\n'));
    }

    std::map<std::string, int> ledger_counts() const {
        std::map<std::string, int> counts;
        std::istringstream in(aj::test::slurp(ledger + "/log"));
        for (std::string line; std::getline(in, line);) ++counts[line];
        return counts;
    }

    std::size_t response_count() const { return answered(*this); }
};

// Reads NAME's responses: exactly one must exist.
json the_response(const PluginEnv& env, const std::string& name, bool* is_error) {
    bool result = fs::exists(env.queue("responses") + "/" + name + ".result.json");
    bool error = fs::exists(env.queue("responses") + "/" + name + ".error.json");
    EXPECT_NE(result, error) << name << ": result=" << result << " error=" << error;
    *is_error = error;
    return json::parse(aj::test::slurp(env.queue("responses") + "/" + name + (error ? ".error.json" : ".result.json")));
}

// Submits without --wait and waits for the result file (a timed-out run's answer), then
// returns it; `name` gets the request's name.
json submit_and_await_result(const PluginEnv& env, const Daemon& daemon, const std::vector<std::string>& args,
                             std::string* name) {
    auto r = env.aj(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    *name = r.out.substr(0, r.out.find('\n'));
    EXPECT_TRUE(aj::test::eventually(
        [&] { return fs::exists(env.queue("responses") + "/" + *name + ".result.json"); }, aj::test::kSlowCeiling))
        << daemon.log();
    bool is_error = false;
    return the_response(env, *name, &is_error);
}

// The pids of `pid`'s children (every thread's), from /proc.
std::set<pid_t> children_of(pid_t pid) {
    std::set<pid_t> out;
    std::error_code ec;
    for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
        std::istringstream in(aj::test::slurp(task.path().string() + "/children"));
        for (pid_t child; in >> child;) out.insert(child);
    }
    return out;
}

// Whether every warm run process of the daemon is ready: blocked in recvmsg (47) for
// its request (runner/launcher.cpp's serve_warm), as /proc/PID/syscall shows it. A
// process whose syscall cannot be read counts as ready (the caller waited a moment).
bool warm_pool_ready(pid_t daemon, unsigned warm) {
    std::size_t ready = 0;
    for (pid_t launcher : children_of(daemon)) {
        for (pid_t run : children_of(launcher)) {
            const std::string call = aj::test::slurp("/proc/" + std::to_string(run) + "/syscall");
            ready += call.empty() || call.rfind("47 ", 0) == 0;
        }
    }
    return ready >= warm;
}

std::set<std::string> run_dir_names(const PluginEnv& env) {
    std::set<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(env.state + "/runs", ec)) out.insert(e.path().filename());
    return out;
}

// With `warm` sandboxes per plugin: has one request of `plugin` served (cold: the first
// of its plugin), then waits for the pool it fills, and returns the pool's run
// directories (a warm sandbox's, its request's /work). Empty without a pool.
std::set<std::string> fill_warm_pool(const PluginEnv& env, const Daemon& daemon, const std::string& plugin,
                                     unsigned warm) {
    if (!warm) return {};
    auto r = env.aj({"submit", "--plugin", plugin, "--wait", "--wait-timeout", "120", "--", "/bin/true"});
    EXPECT_EQ(r.exit_code, 0) << r.err << daemon.log();
    EXPECT_TRUE(aj::test::eventually([&] { return run_dir_names(env).size() == warm; }, aj::test::kSlowCeiling))
        << daemon.log();
    // Built far enough to have a run directory; then ready.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_TRUE(aj::test::eventually([&] { return warm_pool_ready(daemon.pid(), warm); }, aj::test::kSlowCeiling))
        << daemon.log();
    return run_dir_names(env);
}

// The run directory whose /work holds `marker`, or "".
std::string run_dir_with(const PluginEnv& env, const std::string& marker) {
    for (const std::string& id : run_dir_names(env))
        if (fs::exists(env.state + "/runs/" + id + "/work/" + marker)) return id;
    return "";
}

// The crash-rule tests run with cold sandboxes and with a warm pool (host --warm 2).
class HostQueueCrash : public testing::TestWithParam<unsigned> {};

std::string warm_name(const testing::TestParamInfo<unsigned>& info) {
    return info.param ? "Warm" + std::to_string(info.param) : "Cold";
}

}  // namespace

TEST(HostQueue, SubmitWaitReturnsTheSandboxResult) {
    AJ_REQUIRE_SANDBOX();
    PluginEnv env;
    env.stage("acme.testpkg");
    Daemon daemon(env);
    auto r = env.aj({"submit", "--plugin", "acme.testpkg", "--wait", "--wait-timeout", "120", "--",
                     "/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
    EXPECT_EQ(r.exit_code, 3) << r.err << daemon.log();
    EXPECT_EQ(r.out, "out\n");
    EXPECT_NE(r.err.find("err\n"), std::string::npos);
    // No CMD: the entrypoint.
    r = env.aj({"submit", "--plugin", "acme.testpkg", "--wait", "--wait-timeout", "120"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "hello-sandbox\ncwd=/work\n");
    // Unknown plugin: an error response, 125.
    r = env.aj({"submit", "--plugin", "nope", "--wait", "--wait-timeout", "120", "--", "/bin/true"});
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_NE(r.err.find("unknown plugin nope"), std::string::npos) << r.err;
    // Timeout: the sandbox is killed, the response says so.
    std::string name;
    json resp = submit_and_await_result(env, daemon, {"submit", "--plugin", "acme.testpkg", "--timeout", "1", "--",
                                                      "/bin/sleep", "30"},
                                        &name);
    EXPECT_EQ(resp["rc"], 124);
    EXPECT_EQ(resp["timeout"], true);
    EXPECT_EQ(resp["request"], name);
    EXPECT_TRUE(resp["report"].is_object());
    EXPECT_TRUE(resp.contains("ts"));
    // Run directories of daemon runs are removed once answered (just after the answer:
    // the teardown is off the response's path).
    EXPECT_TRUE(aj::test::eventually([&] { return env.files(env.state + "/runs").empty(); }, aj::test::kSlowCeiling));
}

TEST(HostQueue, PolicyTimeoutCapsTheRequestAndBadPolicyIsAnError) {
    AJ_REQUIRE_SANDBOX();
    PluginEnv env;
    fs::create_directories(env.state + "/policies");
    env.tmp.write("state/policies/short.json",
                  R"({"allowed_paths": ["/usr", "/bin", "/lib", "/lib64"], "timeout_sec": 1})");
    env.tmp.write("state/policies/broken.json", R"({"allowed_paths": "not a list"})");
    env.stage("short", "\"run.sh\"", R"(, "policy": "short")");
    env.stage("broken", "\"run.sh\"", R"(, "policy": "broken")");
    Daemon daemon(env);
    // The request asks for 100 s, the policy allows 1 s: refused, nothing runs (a request
    // may only tighten the policy).
    auto r = env.aj({"submit", "--plugin", "short", "--timeout", "100", "--wait", "--wait-timeout", "150", "--",
                     "/bin/sleep", "90"},
                    180);
    EXPECT_EQ(r.exit_code, 125) << r.err << daemon.log();
    EXPECT_NE(r.err.find("may only tighten"), std::string::npos) << r.err;
    // No timeout asked: the default (10 s) capped at the policy's 1 s, killed with 124;
    // the run's report says which limit was in force.
    std::string name;
    json resp = submit_and_await_result(env, daemon, {"submit", "--plugin", "short", "--", "/bin/sleep", "90"}, &name);
    EXPECT_EQ(resp["rc"], 124) << resp.dump();
    EXPECT_EQ(resp["report"]["enforced"]["limits"]["timeout_sec"]["value"], 1);
    r = env.aj({"submit", "--plugin", "broken", "--wait", "--wait-timeout", "120"});
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_NE(r.err.find("broken"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("allowed_paths"), std::string::npos) << r.err;
}

TEST(HostQueue, OutputIsBounded) {
    AJ_REQUIRE_SANDBOX();
    PluginEnv env;
    env.stage("acme.testpkg");
    Daemon daemon(env);
    auto r = env.aj({"submit", "--plugin", "acme.testpkg", "--", "/bin/sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' x"});
    std::string name = r.out.substr(0, r.out.find('\n'));
    ASSERT_TRUE(aj::test::eventually([&] { return fs::exists(env.queue("responses") + "/" + name + ".result.json"); },
                                     aj::test::kSlowCeiling))
        << daemon.log();
    bool is_error = false;
    json resp = the_response(env, name, &is_error);
    EXPECT_EQ(resp["stdout"].get<std::string>().size(), 1u << 20);
    EXPECT_EQ(resp["truncated"], true);
    EXPECT_EQ(resp["rc"], 0);
}

TEST(HostQueue, MalformedOversizedAndGarbageFilesEachGetAnError) {
    AJ_REQUIRE_SANDBOX();
    PluginEnv env;
    env.stage("acme.testpkg");
    std::string req = env.queue("requests") + "/";
    std::map<std::string, std::string> expect{
        {"garbage", "not valid JSON"},         {"binary", "not valid JSON"},
        {"array", "expected a JSON object"},   {"noplugin", "missing \"plugin\""},
        {"badid", "safe plugin id"},           {"extra", "unknown field"},
        {"badcmd", "string or an array"},      {"badtimeout", "timeout"},
        {"oversized", "too large"},            {"link", "symlink"},
        {"fifo", "regular file"},              {"dir", "regular file"},
        {"empty", "not valid JSON"},           {"unknown", "unknown plugin"},
    };
    env.tmp.write("state/queue/requests/garbage.json", "this is { not json");
    env.tmp.write("state/queue/requests/binary.json", std::string("\x00\xff\xfe\x01", 4));
    env.tmp.write("state/queue/requests/array.json", "[1,2,3]");
    env.tmp.write("state/queue/requests/noplugin.json", R"({"cmd":"true"})");
    env.tmp.write("state/queue/requests/badid.json", R"({"plugin":"../../etc","cmd":"true"})");
    env.tmp.write("state/queue/requests/extra.json", R"({"plugin":"acme.testpkg","cmd":"true","uid":0})");
    env.tmp.write("state/queue/requests/badcmd.json", R"({"plugin":"acme.testpkg","cmd":{"x":1}})");
    env.tmp.write("state/queue/requests/badtimeout.json", R"({"plugin":"acme.testpkg","timeout":-5})");
    env.tmp.write("state/queue/requests/oversized.json",
                  R"({"plugin":"acme.testpkg","cmd":")" + std::string(100 * 1024, 'a') + "\"}");
    fs::create_symlink("/etc/passwd", req + "link.json");
    ASSERT_EQ(::mkfifo((req + "fifo.json").c_str(), 0600), 0);
    fs::create_directory(req + "dir.json");
    env.tmp.write("state/queue/requests/empty.json", "");
    env.tmp.write("state/queue/requests/unknown.json", R"({"plugin":"not.staged","cmd":"true"})");
    // And one good request in the middle of the flood.
    env.tmp.write("state/queue/requests/good.json", R"({"plugin":"acme.testpkg","cmd":["/bin/echo","fine"]})");

    Daemon daemon(env);
    ASSERT_TRUE(aj::test::eventually([&] { return answered(env) == expect.size() + 1; }, aj::test::kSlowCeiling))
        << daemon.log();
    for (const auto& [name, why] : expect) {
        bool is_error = false;
        json resp = the_response(env, name, &is_error);
        EXPECT_TRUE(is_error) << name;
        EXPECT_NE(resp.value("error", "").find(why), std::string::npos) << name << ": " << resp.dump();
    }
    bool is_error = true;
    json good = the_response(env, "good", &is_error);
    EXPECT_FALSE(is_error);
    EXPECT_EQ(good["stdout"], "fine\n");
    EXPECT_TRUE(env.files(env.queue("requests")).empty());
    // The claim goes right after its response is durable (by design): allow that moment.
    EXPECT_TRUE(aj::test::eventually([&] { return env.files(env.queue("claimed")).empty(); },
                                     aj::test::kSlowCeiling));
    EXPECT_TRUE(fs::exists("/etc/passwd"));
    ASSERT_TRUE(daemon.wait_serving()) << daemon.log();
    daemon.signal(SIGTERM);
    EXPECT_EQ(daemon.wait(), 0) << daemon.log();
}

TEST(HostQueue, OneDaemonPerStateDirectory) {
    PluginEnv env;
    Daemon first(env);
    ASSERT_TRUE(first.wait_serving()) << first.log();
    auto r = env.aj({"host"}, 60);
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_NE(r.err.find("another host daemon"), std::string::npos) << r.err;
    // The heartbeat the health check reads is refreshed while the daemon is idle.
    std::string hb = env.state + "/host.heartbeat";
    ASSERT_TRUE(fs::exists(hb));
    EXPECT_TRUE(json::parse(aj::test::slurp(hb)).contains("pid"));
    auto beat0 = fs::last_write_time(hb);
    // Refreshed every 1-2 s (the idle loop wakes at each rescan); 30 s for a loaded machine.
    EXPECT_TRUE(aj::test::eventually([&] { return fs::last_write_time(hb) > beat0; }, std::chrono::seconds(30)));
}

TEST_P(HostQueueCrash, SigtermDrainsRunningRequests) {
    AJ_REQUIRE_SANDBOX();
    const unsigned warm = GetParam();
    // The running request holds its worker until the test lets it go: a fixed "sleep 2"
    // could end before the SIGTERM arrived on a loaded machine, and the freed worker then
    // rightly served the second request, failing the test.
    LedgerEnv env;
    const std::string started = env.ledger + "/started", go = env.ledger + "/go";
    Daemon daemon(env, 1, warm);
    const std::set<std::string> pool = fill_warm_pool(env, daemon, "ledger", warm);
    // No timeout of its own: a warm sandbox may take it (the default 10 s is enough).
    auto r = env.aj({"submit", "--plugin", "ledger", "--", "/bin/sh", "-c",
                     "touch " + started + " /work/running; while [ ! -e " + go + " ]; do sleep 0.05; done; echo finished"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::string running = r.out.substr(0, r.out.find('\n'));
    ASSERT_TRUE(aj::test::eventually([&] { return fs::exists(started); }, aj::test::kSlowCeiling)) << daemon.log();
    if (warm) {
        EXPECT_TRUE(pool.count(run_dir_with(env, "running"))) << "served cold, not by the pool\n" << daemon.log();
    }
    r = env.aj({"submit", "--plugin", "ledger", "--", "/bin/echo", "later"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::string waiting = r.out.substr(0, r.out.find('\n'));
    ASSERT_TRUE(daemon.wait_serving()) << daemon.log();
    daemon.signal(SIGTERM);
    // Released only once the daemon took the signal: from then on nothing new is claimed.
    ASSERT_TRUE(aj::test::eventually([&] { return daemon.log().find("draining") != std::string::npos; },
                                     aj::test::kSlowCeiling))
        << daemon.log();
    env.tmp.write("ledger/go", "");
    EXPECT_EQ(daemon.wait(), 0) << daemon.log();
    bool is_error = true;
    json resp = the_response(env, running, &is_error);
    EXPECT_FALSE(is_error) << resp.dump();
    EXPECT_EQ(resp["stdout"], "finished\n");
    // Not claimed during the drain: still queued for the next daemon.
    EXPECT_FALSE(fs::exists(env.queue("responses") + "/" + waiting + ".result.json"));
    EXPECT_TRUE(fs::exists(env.queue("requests") + "/" + waiting + ".json"));
    // The drain ends once every run process has torn its sandbox down, the pool's too.
    EXPECT_TRUE(run_dir_names(env).empty()) << "a drained daemon left run directories";
}

// The heavy one (about 15 s of sandboxes on 2 cores): 500 requests, 4 submitters at once.
TEST(HostQueue, Heavy500RequestsFrom4SubmittersAnsweredExactlyOnce) {
    AJ_REQUIRE_SANDBOX();
    LedgerEnv env;
    Daemon daemon(env, 2);
    constexpr int kSubmitters = 4, kEach = 125;
    std::mutex mu;
    std::map<std::string, std::string> token_of;  // request name -> token
    std::vector<std::thread> submitters;
    submitters.reserve(kSubmitters);
    for (int s = 0; s < kSubmitters; ++s) {
        submitters.emplace_back([&, s] {
            for (int i = 0; i < kEach; ++i) {
                std::string token = "s" + std::to_string(s) + "-" + std::to_string(i);
                std::string name = env.submit_token(token);
                std::lock_guard lock(mu);
                token_of[name] = token;
            }
        });
    }
    for (auto& t : submitters) t.join();
    ASSERT_EQ(token_of.size(), static_cast<std::size_t>(kSubmitters * kEach));  // unique names
    // ~15 s in release on an idle machine, 142 s measured under ASan beside two CPU hogs.
    // ctest gives this test 900 s (tests/slow_tests.cmake); the submissions came first.
    ASSERT_TRUE(aj::test::eventually([&] { return env.response_count() >= token_of.size(); },
                                     std::chrono::seconds(600)))
        << env.response_count() << " responses\n" << daemon.log().substr(0, 4000);
    auto counts = env.ledger_counts();
    for (const auto& [name, token] : token_of) {
        bool is_error = true;
        json resp = the_response(env, name, &is_error);
        EXPECT_FALSE(is_error) << resp.dump();
        EXPECT_EQ(resp["rc"], 0) << resp.dump();
        EXPECT_EQ(counts[token], 1) << token << " ran " << counts[token] << " times";
    }
    EXPECT_EQ(env.response_count(), token_of.size());
    EXPECT_EQ(counts.size(), token_of.size());
    ASSERT_TRUE(daemon.wait_serving()) << daemon.log();
    daemon.signal(SIGTERM);
    EXPECT_EQ(daemon.wait(), 0);
}

namespace {

// SIGKILLs daemons (serving with `warm` warm sandboxes per plugin) at random moments
// while requests keep coming; every request must be answered once and have run at most
// once (exactly once unless answered as interrupted).
void sigkill_at_random_moments(unsigned warm) {
    LedgerEnv env;
    constexpr int kRequests = 80;
    std::map<std::string, std::string> token_of;
    std::atomic<bool> submitting{true};
    // Submissions keep arriving while the daemon is being killed and restarted.
    std::thread submitter([&] {
        for (int i = 0; i < kRequests; ++i) {
            std::string token = "t" + std::to_string(i);
            token_of[env.submit_token(token)] = token;
        }
        submitting = false;
    });
    std::mt19937 rng(std::random_device{}());
    std::string logs;
    for (int round = 0; round < 6; ++round) {
        Daemon daemon(env, 2, warm);
        std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(50, 700)(rng)));
        daemon.signal(SIGKILL);
        EXPECT_EQ(daemon.wait(), 128 + SIGKILL) << daemon.log();
        logs += daemon.log();
    }
    submitter.join();
    // A last daemon serves what is left, then drains.
    Daemon last(env, 2, warm);
    ASSERT_TRUE(aj::test::eventually([&] { return env.response_count() >= token_of.size(); },
                                     std::chrono::seconds(240)))
        << env.response_count() << " of " << token_of.size() << "\n" << last.log();
    ASSERT_TRUE(last.wait_serving()) << last.log();
    last.signal(SIGTERM);
    EXPECT_EQ(last.wait(), 0);
    logs += last.log();
    // The test is about warm sandboxes only if some request went to one.
    if (warm) {
        EXPECT_NE(logs.find("rc=0 (warm)"), std::string::npos) << "no request was served warm\n" << logs;
    }

    auto counts = env.ledger_counts();
    int interrupted = 0;
    for (const auto& [name, token] : token_of) {
        bool is_error = false;
        json resp = the_response(env, name, &is_error);
        if (is_error) {
            // The only error allowed here is the crash rule's; such a request ran at most once.
            EXPECT_EQ(resp["error"], aj::runner::kInterruptedReason) << resp.dump();
            EXPECT_LE(counts[token], 1) << token;
            ++interrupted;
        } else {
            EXPECT_EQ(resp["rc"], 0) << resp.dump();
            EXPECT_EQ(counts[token], 1) << token << " ran " << counts[token] << " times";
        }
    }
    EXPECT_EQ(env.response_count(), token_of.size()) << "a response for an unknown request?";
    EXPECT_TRUE(env.files(env.queue("requests")).empty());
    EXPECT_TRUE(env.files(env.queue("claimed")).empty());
    std::cerr << "[ INFO ] " << interrupted << " of " << token_of.size()
              << " requests answered as interrupted across 6 SIGKILLs\n";
    // Every run directory, warm sandboxes' included, is gone once the last daemon drained.
    std::string left;
    for (const std::string& id : run_dir_names(env)) {
        left += id + ":";
        for (const std::string& f : env.files(env.state + "/runs/" + id)) left += " " + f;
        left += "\n";
    }
    EXPECT_TRUE(left.empty()) << "run directories left:\n" << left << logs;
}

}  // namespace

TEST(HostQueue, SigkillAtRandomMomentsLosesAndDuplicatesNothing) {
    AJ_REQUIRE_SANDBOX();
    sigkill_at_random_moments(0);
}

// The same with warm sandboxes waiting (and being handed requests) when the kills come.
TEST(HostQueue, SigkillAtRandomMomentsWithWarmSandboxesLosesAndDuplicatesNothing) {
    AJ_REQUIRE_SANDBOX();
    sigkill_at_random_moments(2);
}

// `run --rm` removes its run directory when it ends; one SIGKILLed before that leaves it,
// and the next daemon removes it at start. A live --rm run's directory is never touched.
TEST(HostQueue, DaemonStartRemovesRunDirectoriesOfKilledRmRuns) {
    AJ_REQUIRE_SANDBOX();
    PluginEnv env;
    env.stage("acme.testpkg");
    auto run_dirs = [&] {
        std::set<std::string> out;
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(env.state + "/runs", ec)) out.insert(e.path().filename());
        return out;
    };
    const std::vector<std::string> args{"run", "--state-dir", env.state, "--plugin", "acme.testpkg", "--rm",
                                        "--", "/bin/sh", "-c", "echo up; exec sleep 120"};
    aj::test::Spawned killed(args);
    ASSERT_TRUE(killed.wait_for("up", 120)) << killed.output();
    aj::test::Spawned alive(args);
    ASSERT_TRUE(alive.wait_for("up", 120)) << alive.output();
    ASSERT_EQ(run_dirs().size(), 2u);
    ::kill(killed.pid(), SIGKILL);
    EXPECT_EQ(killed.wait(), 128 + SIGKILL);
    EXPECT_EQ(run_dirs().size(), 2u) << "a SIGKILLed aurora-jail cannot clean up";

    {
        Daemon d(env, 1);
        ASSERT_TRUE(d.wait_serving()) << d.log();
        EXPECT_NE(d.log().find("removed 1 abandoned run directories"), std::string::npos) << d.log();
        d.signal(SIGTERM);
        EXPECT_EQ(d.wait(), 0) << d.log();
    }
    EXPECT_EQ(run_dirs().size(), 1u) << "the live run's directory must stay";
    ::kill(alive.pid(), SIGTERM);
    alive.wait();
    EXPECT_TRUE(run_dirs().empty()) << "the live run removes its own directory when it ends";
}

// The daemon starts sandboxes through its launcher process, which must not outlive it:
// a SIGKILLed daemon leaves no sandbox running (and its request to the crash rule).
TEST_P(HostQueueCrash, SigkilledDaemonLeavesNoSandboxRunning) {
    AJ_REQUIRE_SANDBOX();
    const unsigned warm = GetParam();
    LedgerEnv env;
    const std::string beat = env.ledger + "/beat";
    Daemon daemon(env, 1, warm);
    const std::set<std::string> pool = fill_warm_pool(env, daemon, "ledger", warm);
    const auto beating = [&] { return fs::exists(beat) && fs::file_size(beat) > 4; };
    auto released = std::chrono::steady_clock::now();
    if (!warm) {
        // Its own timeout (300 s) far beyond the wait below: only the daemon's death ends it.
        auto r = env.aj({"submit", "--plugin", "ledger", "--timeout", "300", "--", "/bin/sh", "-c",
                         "while :; do echo . >> " + beat + "; sleep 0.05; done"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        ASSERT_TRUE(aj::test::eventually(beating, aj::test::kSlowCeiling)) << daemon.log();
    } else {
        // A warm sandbox takes only requests without a timeout of their own: the default
        // 10 s from its release, so the beat must stop well before that (below). A request
        // served cold (the pool not ready yet) beats too, and is sent again.
        bool from_pool = false;
        for (int attempt = 0; attempt < 5 && !from_pool; ++attempt) {
            const std::string marker = "beating-" + std::to_string(attempt);
            auto r = env.aj({"submit", "--plugin", "ledger", "--", "/bin/sh", "-c",
                             "touch /work/" + marker + "; while :; do echo . >> " + beat + "; sleep 0.05; done"});
            ASSERT_EQ(r.exit_code, 0) << r.err;
            ASSERT_TRUE(aj::test::eventually([&] { return !run_dir_with(env, marker).empty(); }, aj::test::kSlowCeiling))
                << daemon.log();
            released = std::chrono::steady_clock::now();
            from_pool = pool.count(run_dir_with(env, marker)) > 0;
        }
        ASSERT_TRUE(from_pool) << "no request was served by the pool\n" << daemon.log();
        ASSERT_TRUE(aj::test::eventually(beating, aj::test::kSlowCeiling)) << daemon.log();
    }
    daemon.signal(SIGKILL);
    EXPECT_EQ(daemon.wait(), 128 + SIGKILL);
    // The beat stops: unchanged over a whole second (the loop writes every 50 ms).
    auto still = [&] {
        const auto before = fs::file_size(beat);
        std::this_thread::sleep_for(std::chrono::seconds(1));
        return fs::file_size(beat) == before;
    };
    // A warm sandbox's own timeout would end it 10 s after its release: seen before 9 s,
    // the stop is the daemon's death.
    const auto ceiling = warm ? std::chrono::duration_cast<std::chrono::milliseconds>(
                                    released + std::chrono::seconds(9) - std::chrono::steady_clock::now())
                              : std::chrono::milliseconds(60000);
    EXPECT_TRUE(aj::test::eventually(still, ceiling)) << "the sandbox outlived the daemon";
}

// The launcher dying is a bug, never silent: the daemon says so and exits non-zero (for
// the service manager to restart it); queued requests stay for the next daemon.
TEST_P(HostQueueCrash, LauncherDeathEndsTheDaemonAndLosesNoRequest) {
    AJ_REQUIRE_SANDBOX();
    const unsigned warm = GetParam();
    PluginEnv env;
    env.stage("acme.testpkg");
    std::set<pid_t> warm_processes;
    {
        Daemon daemon(env, 1, warm);
        ASSERT_TRUE(daemon.wait_serving()) << daemon.log();
        // With a pool: the launcher's children are warm sandboxes waiting for a request.
        ASSERT_EQ(fill_warm_pool(env, daemon, "acme.testpkg", warm).size(), warm);
        const std::set<pid_t> children = children_of(daemon.pid());
        ASSERT_EQ(children.size(), 1u) << "an idle daemon's only child is its launcher";
        warm_processes = children_of(*children.begin());
        EXPECT_EQ(warm_processes.size(), warm);
        // It holds nothing of the daemon's (its lock, the state directory, inotify)
        // beyond stdio, its socket and its own signalfd (and its warm sandboxes' sockets).
        for (const auto& fd : fs::directory_iterator("/proc/" + std::to_string(*children.begin()) + "/fd")) {
            const std::string target = fs::read_symlink(fd.path()).string();
            const int n = std::stoi(fd.path().filename().string());
            EXPECT_TRUE(n <= 2 || target.rfind("socket:", 0) == 0 || target == "anon_inode:[signalfd]")
                << "the launcher holds fd " << n << " -> " << target;
        }
        ::kill(*children.begin(), SIGKILL);
        EXPECT_EQ(daemon.wait(), aj::kExitInternal) << daemon.log();
        EXPECT_NE(daemon.log().find("the launcher process died"), std::string::npos) << daemon.log();
    }
    // The warm sandboxes die with the launcher (their run directories are left for the
    // next start).
    const std::string state = env.state;
    const auto gone = [&] {
        for (pid_t pid : warm_processes)
            if (aj::test::slurp("/proc/" + std::to_string(pid) + "/cmdline").find(state) != std::string::npos) return false;
        return true;
    };
    EXPECT_TRUE(aj::test::eventually(gone, std::chrono::seconds(60))) << "a warm sandbox outlived its launcher";
    auto r = env.aj({"submit", "--plugin", "acme.testpkg", "--", "/bin/echo", "served"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string name = r.out.substr(0, r.out.find('\n'));
    Daemon next(env, 1);
    ASSERT_TRUE(aj::test::eventually(
        [&] { return fs::exists(env.queue("responses") + "/" + name + ".result.json"); }, aj::test::kSlowCeiling))
        << next.log();
    // The warm sandboxes' run directories: removed when that daemon drained, or now.
    EXPECT_TRUE(aj::test::eventually([&] { return run_dir_names(env).empty(); }, aj::test::kSlowCeiling)) << next.log();
    bool is_error = true;
    const json resp = the_response(env, name, &is_error);
    EXPECT_FALSE(is_error);
    EXPECT_EQ(resp["stdout"], "served\n");
}

INSTANTIATE_TEST_SUITE_P(Pool, HostQueueCrash, testing::Values(0u, 2u), warm_name);

// A request is answered before its sandbox is torn down (the cgroup, the run directory,
// the leased id: runner/launcher.hpp), and a daemon killed in between leaves only what the
// next start removes. The run leaves thousands of files, so that removing its directory
// takes long enough for the kill to land while it does.
TEST(HostQueue, DaemonKilledAfterTheAnswerBeforeTheTeardownIsCleanedUpAtTheNextStart) {
    AJ_REQUIRE_SANDBOX();
    PluginEnv env;
    env.stage("acme.testpkg");
    std::string name;
    {
        Daemon daemon(env, 1);
        auto r = env.aj({"submit", "--plugin", "acme.testpkg", "--timeout", "120", "--", "/bin/sh", "-c",
                         "mkdir /work/many && cd /work/many && seq 1 15000 | xargs touch && echo made"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        name = r.out.substr(0, r.out.find('\n'));
        const std::string response = env.queue("responses") + "/" + name + ".result.json";
        const auto deadline = std::chrono::steady_clock::now() + aj::test::kSlowCeiling;
        while (!fs::exists(response) && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::microseconds(500));
        daemon.signal(SIGKILL);
        EXPECT_EQ(daemon.wait(), 128 + SIGKILL);
        ASSERT_TRUE(fs::exists(response)) << daemon.log();
        // The answer came first: its run directory was still being removed.
        EXPECT_EQ(run_dir_names(env).size(), 1u) << "the run directory was removed before the answer\n" << daemon.log();
    }
    bool is_error = true;
    const json resp = the_response(env, name, &is_error);
    ASSERT_FALSE(is_error) << resp.dump();
    EXPECT_EQ(resp["stdout"], "made\n");
    {
        Daemon next(env, 1);
        ASSERT_TRUE(next.wait_serving()) << next.log();
        EXPECT_TRUE(run_dir_names(env).empty()) << next.log();
        // A request's sandbox cgroup sweeps the stale ones beside it (helper/cgroup.hpp).
        auto r = env.aj({"submit", "--plugin", "acme.testpkg", "--wait", "--wait-timeout", "120", "--", "/bin/true"});
        EXPECT_EQ(r.exit_code, 0) << r.err << next.log();
        next.signal(SIGTERM);
        EXPECT_EQ(next.wait(), 0) << next.log();
    }
    for (const auto& dir : resp["report"]["enforced"]["cgroup"].value("directories", json::array()))
        EXPECT_FALSE(fs::exists(dir.get<std::string>())) << "the killed run's cgroup was left behind";
    EXPECT_EQ(the_response(env, name, &is_error), resp) << "the answer changed";
}
