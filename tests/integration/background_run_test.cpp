// Background runs: `run --detach` returns at once; `status` and `stop` work from other
// processes (each CLI call here is one); processes are identified by pid + start time.
#include <gtest/gtest.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <filesystem>

#include "runner/run_registry.hpp"
#include "tests/integration/plugin_support.hpp"

using aj::test::PluginEnv;
using nlohmann::json;

namespace {

json status_of(const PluginEnv& env, const std::string& id) {
    auto r = env.aj({"status", "--json", id});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out, nullptr, false);
}

std::string detach(const PluginEnv& env, std::vector<std::string> args) {
    args.insert(args.begin(), {"run", "--detach"});
    auto started = std::chrono::steady_clock::now();
    auto r = env.aj(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    // "At once": well before the command inside could have finished (the long-running
    // commands here take 60 s or forever; 30 s leaves room for a loaded CI machine).
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(30));
    std::string id = r.out.substr(0, r.out.find('\n'));
    EXPECT_EQ(id.rfind("run-", 0), 0u) << r.out;
    return id;
}

// Exited (possibly still a zombie until its new parent reaps it).
bool process_gone(pid_t pid) {
    std::string stat = aj::test::slurp("/proc/" + std::to_string(pid) + "/stat");
    if (stat.empty()) return true;
    std::size_t close = stat.rfind(')');
    return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z';
}

// Status of a detached run once its command has printed `first_output` (so it is
// past its start and has its signal dispositions in place).
json running_after_output(const PluginEnv& env, const std::string& id, const std::string& first_output) {
    json st = status_of(env, id);
    EXPECT_EQ(st["state"], "running") << st.dump();
    EXPECT_TRUE(st["run_dir"].is_string()) << st.dump();
    const std::string log = st.value("run_dir", std::string()) + "/stdout.log";
    EXPECT_TRUE(aj::test::eventually([&] { return aj::test::slurp(log) == first_output; }, aj::test::kSlowCeiling))
        << log << " never read " << first_output;
    return st;
}

// After `stop`: the run is recorded as stopped and its supervisor (pid in `st`) is gone.
json expect_stopped(const PluginEnv& env, const std::string& id, const json& st_running) {
    json st = status_of(env, id);
    EXPECT_EQ(st["state"], "stopped") << st.dump();
    EXPECT_TRUE(aj::test::eventually([&] { return process_gone(st_running["pid"].get<int>()); },
                                     aj::test::kSlowCeiling));
    return st;
}

class BackgroundRun : public aj::test::SandboxedPluginTest {
protected:
    // A test that failed half-way must not leave its detached sandbox behind (one of them
    // loops forever), still loading the machine for the tests after it.
    void TearDown() override {
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator(env.state + "/runs", ec))
            env.aj({"stop", "--grace", "0", e.path().filename().string()});
    }
};

}  // namespace

TEST_F(BackgroundRun, StatusThenStopFromAnotherProcess) {
    env.stage("acme.testpkg");
    std::string id = detach(env, {"--plugin", "acme.testpkg", "--", "/bin/sh", "-c", "echo started; exec sleep 60"});
    json st = running_after_output(env, id, "started\n");
    ASSERT_FALSE(HasFailure());
    EXPECT_GT(st["pid"].get<int>(), 0);
    EXPECT_EQ(st["plugin"], "acme.testpkg");

    auto started = std::chrono::steady_clock::now();
    auto r = env.aj({"stop", "--grace", "60", id});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    // SIGTERM reached the sandbox (forwarded by the supervisor): no need for the grace
    // (60 s; the bound is half of it so that a loaded machine cannot cross it).
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(30));
    // Stopped, and the supervisor is gone, and so is its sandbox.
    json stopped = expect_stopped(env, id, st);
    EXPECT_EQ(stopped["exit_code"], 128 + SIGTERM);
    EXPECT_TRUE(stopped["report"].is_object());
}

TEST_F(BackgroundRun, StopEscalatesToSigkillAfterGrace) {
    // The command ignores SIGTERM: only SIGKILL after the grace ends it.
    std::string id = detach(env, {"--", "/bin/sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done"});
    json st = running_after_output(env, id, "ready\n");
    ASSERT_FALSE(HasFailure());
    auto started = std::chrono::steady_clock::now();
    auto r = env.aj({"stop", "--grace", "1", id});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(900));
    expect_stopped(env, id, st);
}

TEST_F(BackgroundRun, FinishedRunReportsExitAndReport) {
    std::string id = detach(env, {"--", "/bin/sh", "-c", "echo bye; exit 4"});
    ASSERT_TRUE(aj::test::eventually([&] { return status_of(env, id)["state"] == "exited"; },
                                     aj::test::kSlowCeiling));
    json st = status_of(env, id);
    EXPECT_EQ(st["exit_code"], 4);
    ASSERT_TRUE(st["report"].is_object()) << st.dump();
    EXPECT_EQ(st["report"]["exit_code"], 4);
    EXPECT_EQ(aj::test::slurp(st["run_dir"].get<std::string>() + "/stdout.log"), "bye\n");
    // Listing shows it; stopping a finished run changes nothing.
    auto r = env.aj({"status"});
    EXPECT_NE(r.out.find(id), std::string::npos);
    r = env.aj({"stop", id});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(status_of(env, id)["state"], "exited");
}

TEST(BackgroundCli, RecycledPidIsNeverSignalled) {
    // A record whose pid now belongs to another process (different start time) must be
    // reported lost, and `stop` must leave that process alone.
    PluginEnv env;
    pid_t victim = -1;
    char sleep_path[] = "/bin/sleep";
    char arg[] = "60";
    char* argv[] = {sleep_path, arg, nullptr};
    ASSERT_EQ(posix_spawn(&victim, argv[0], nullptr, nullptr, argv, environ), 0);
    aj::runner::StateDir state(env.state);
    aj::runner::RunRegistry reg(state);
    aj::runner::RunRecord rec;
    rec.id = reg.create_run();
    rec.state = "running";
    rec.pid = victim;
    rec.pid_start = aj::runner::process_start_time(victim).value() + 1;  // not this process
    reg.write(rec);

    EXPECT_EQ(status_of(env, rec.id)["state"], "lost");
    auto r = env.aj({"stop", "--grace", "0", rec.id});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(::kill(victim, 0), 0) << "stop signalled a process that was not the run's";
    ::kill(victim, SIGKILL);
    int status;
    ::waitpid(victim, &status, 0);
}

TEST(BackgroundCli, UnknownRunIsAnError) {
    PluginEnv env;
    auto r = env.aj({"status", "run-nope"});
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_NE(r.err.find("unknown run"), std::string::npos);
    r = env.aj({"stop", "../../x"});
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_NE(r.err.find("not a safe name"), std::string::npos) << r.err;
}

// A staged plugin is not removed or replaced under a run of it: unstage and a new stage
// of the same id refuse while the run lasts (the sandbox still reads its /plugin), and
// work again once it has ended.
TEST_F(BackgroundRun, UnstageAndRestageRefuseWhileAPluginRuns) {
    env.stage("acme.busy");
    std::string id = detach(env, {"--plugin", "acme.busy", "--", "/bin/sh", "-c",
                                  "echo started; while sleep 0.2; do cat /plugin/run.sh > /dev/null || exit 9; done"});
    json st = running_after_output(env, id, "started\n");
    ASSERT_FALSE(HasFailure());

    auto r = env.aj({"unstage", "acme.busy"});
    EXPECT_EQ(r.exit_code, 125) << r.err;
    EXPECT_NE(r.err.find("in progress"), std::string::npos) << r.err;
    r = env.aj({"stage", env.pkg});
    EXPECT_EQ(r.exit_code, 125) << r.err;
    EXPECT_NE(r.err.find("in progress"), std::string::npos) << r.err;
    r = env.aj({"plugins"});
    EXPECT_NE(r.out.find("acme.busy"), std::string::npos) << r.out;
    // Still running, its package intact (the loop exits 9 once /plugin/run.sh is gone).
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    EXPECT_EQ(status_of(env, id)["state"], "running");

    r = env.aj({"stop", "--grace", "0", id});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    expect_stopped(env, id, st);
    r = env.aj({"stage", env.pkg});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    r = env.aj({"unstage", "acme.busy"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    r = env.aj({"plugins"});
    EXPECT_EQ(r.out.find("acme.busy"), std::string::npos) << r.out;
}

// `status --prune` removes the directories of ended background runs and only those.
TEST_F(BackgroundRun, PruneRemovesEndedRunsOnly) {
    std::string ended = detach(env, {"--", "/bin/sh", "-c", "echo bye"});
    ASSERT_TRUE(aj::test::eventually([&] { return status_of(env, ended)["state"] == "exited"; },
                                     aj::test::kSlowCeiling));
    std::string running = detach(env, {"--", "/bin/sh", "-c", "echo started; exec sleep 60"});
    json st = running_after_output(env, running, "started\n");
    ASSERT_FALSE(HasFailure());

    auto r = env.aj({"status", "--prune", ended});
    EXPECT_EQ(r.exit_code, 125) << "--prune with a RUN_ID is refused: " << r.err;
    r = env.aj({"status", "--prune", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(json::parse(r.out)["removed"], json::array({ended})) << r.out;
    EXPECT_FALSE(std::filesystem::exists(env.state + "/runs/" + ended));
    EXPECT_EQ(env.aj({"status", ended}).exit_code, 125) << "an unknown run now";
    EXPECT_EQ(status_of(env, running)["state"], "running");
    EXPECT_TRUE(std::filesystem::exists(env.state + "/runs/" + running + "/stdout.log"));

    r = env.aj({"stop", "--grace", "0", running});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    expect_stopped(env, running, st);
    r = env.aj({"status", "--prune"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("removed " + running), std::string::npos) << r.out;
    EXPECT_FALSE(std::filesystem::exists(env.state + "/runs/" + running));
}
