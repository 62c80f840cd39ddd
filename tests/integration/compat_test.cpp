// The prototype's users' files and habits through aurora-jail (issue: prototype
// compatibility): its NAME.req requests and response layouts, `host --queue-dir` on its
// data/ directory, `sh run.sh` in a working directory that starts with the package's
// files (writes never reach the store), shell-string commands, per-request limits that
// may only tighten the policy, and the daemon without systemd.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "tests/integration/plugin_support.hpp"

namespace fs = std::filesystem;
using aj::test::Daemon;
using aj::test::PluginEnv;
using aj::test::slurp;
using nlohmann::json;

namespace {

class Compat : public aj::test::SandboxedPluginTest {};

// Stages the prototype's own test package: a non-executable run.sh.
void stage_prototype_package(const PluginEnv& env) {
    fs::remove_all(env.pkg);
    env.tmp.write("pkg/manifest.json",
                  R"({"id":"acme.testpkg","name":"T","version":"0.1.0","entrypoint":"run.sh"})");
    env.tmp.write("pkg/run.sh", "#!/bin/sh\necho hello-sandbox\n", 0644);
    fs::create_directories(env.pkg + "/data");
    env.tmp.write("pkg/data/input.txt", "input\n");
    auto r = env.aj({"stage", env.pkg});
    ASSERT_EQ(r.exit_code, 0) << r.err;
}

// Every file of the staged tree with its bytes: "writes never reach the store" compares
// two of these.
std::map<std::string, std::string> tree(const std::string& dir) {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
        std::string rel = e.path().string().substr(dir.size());
        out[rel] = e.is_regular_file() ? slurp(e.path()) : std::string(e.is_directory() ? "<dir>" : "<other>");
    }
    return out;
}

bool wait_file(const std::string& path) {
    return aj::test::eventually([&] { return fs::exists(path); }, aj::test::kSlowCeiling);
}

// A prototype client's write: in place, not atomic (open, write, close).
void write_in_place(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
}

json read_json(const std::string& path) { return json::parse(slurp(path)); }

}  // namespace

TEST_F(Compat, PrototypeReqFilesAreAnsweredInThePrototypeLayout) {
    stage_prototype_package(env);
    Daemon daemon(env);
    const std::string req = env.queue("requests") + "/", resp = env.queue("responses") + "/";
    write_in_place(req + "acme.testpkg-1700000000000.req",
                   R"({"plugin": "acme.testpkg", "cmd": "sh run.sh; echo err >&2; exit 3", "timeout": 10})");
    write_in_place(req + "acme.testpkg-1700000000001.req", R"({"plugin": "nope", "cmd": "true"})");
    write_in_place(req + "notes.txt", "not a request");
    ASSERT_TRUE(wait_file(resp + "acme.testpkg-1700000000000.req.result.json")) << daemon.log();
    json ok = read_json(resp + "acme.testpkg-1700000000000.req.result.json");
    EXPECT_EQ(ok["req"], "acme.testpkg-1700000000000.req");
    ASSERT_TRUE(ok["result"].is_object()) << ok.dump();
    EXPECT_EQ(ok["result"]["rc"], 3);
    EXPECT_EQ(ok["result"]["stdout"], "hello-sandbox\n");
    // The command's stderr, then only aurora-jail's own warnings (an ordinary user's run
    // without a memory cgroup names what it cannot bound).
    const std::string stderr_text = ok["result"]["stderr"];
    EXPECT_EQ(stderr_text.substr(0, 4), "err\n") << stderr_text;
    for (std::size_t at = 4; at < stderr_text.size(); at = stderr_text.find('\n', at) + 1)
        EXPECT_EQ(stderr_text.compare(at, 22, "aurora-jail: warning: "), 0) << stderr_text;
    EXPECT_TRUE(ok["result"]["ts"].is_number());
    EXPECT_EQ(ok["result"]["timeout"], false);               // aurora-jail's extras beside them
    EXPECT_TRUE(ok["result"]["report"].is_object());
    EXPECT_FALSE(fs::exists(resp + "acme.testpkg-1700000000000.req.error.json"));

    ASSERT_TRUE(wait_file(resp + "acme.testpkg-1700000000001.req.error.json")) << daemon.log();
    json err = read_json(resp + "acme.testpkg-1700000000001.req.error.json");
    EXPECT_NE(err["error"].get<std::string>().find("unknown plugin nope"), std::string::npos) << err.dump();
    EXPECT_EQ(err["req"], "acme.testpkg-1700000000001.req");

    // Not a request: answered with an error, logged once, removed from requests/.
    ASSERT_TRUE(wait_file(resp + "notes.txt.error.json")) << daemon.log();
    EXPECT_NE(read_json(resp + "notes.txt.error.json")["error"].get<std::string>().find("not a request"),
              std::string::npos);
    ASSERT_TRUE(aj::test::eventually([&] { return env.files(env.queue("requests")).empty(); }, aj::test::kSlowCeiling));
    std::string log = daemon.log();
    auto first = log.find("notes.txt: error: not a request");
    ASSERT_NE(first, std::string::npos) << log;
    EXPECT_EQ(log.find("notes.txt: error", first + 1), std::string::npos) << log;
    // The claim goes right after its response is durable (by design): allow that moment.
    EXPECT_TRUE(aj::test::eventually([&] { return env.files(env.queue("claimed")).empty(); }, aj::test::kSlowCeiling));
}

TEST_F(Compat, CrashRuleIsUnchangedForReqFiles) {
    stage_prototype_package(env);
    // A daemon died while running proto.req (its claim is left) and after answering
    // done.req but before unclaiming it.
    { Daemon first(env); ASSERT_TRUE(first.wait_serving()); }
    env.tmp.write("state/queue/claimed/proto.req.json", R"({"plugin":"acme.testpkg","cmd":"sh run.sh"})");
    env.tmp.write("state/queue/claimed/done.req.json", R"({"plugin":"acme.testpkg","cmd":"sh run.sh"})");
    env.tmp.write("state/queue/responses/done.req.result.json", R"({"req":"done.req","result":{"rc":0}})");
    Daemon daemon(env);
    ASSERT_TRUE(daemon.wait_serving()) << daemon.log();
    const std::string resp = env.queue("responses") + "/";
    json err = read_json(resp + "proto.req.error.json");
    EXPECT_EQ(err["error"], "interrupted: daemon stopped while running");
    EXPECT_EQ(err["req"], "proto.req");
    EXPECT_FALSE(fs::exists(resp + "proto.req.result.json"));   // never re-run
    EXPECT_EQ(read_json(resp + "done.req.result.json")["result"]["rc"], 0);  // the real answer stands
    EXPECT_FALSE(fs::exists(resp + "done.req.error.json"));
    EXPECT_TRUE(env.files(env.queue("claimed")).empty());
    // The same STEM again: one STEM, one response; the duplicate is removed, not run.
    write_in_place(env.queue("requests") + "/proto.req", R"({"plugin":"acme.testpkg","cmd":"sh run.sh"})");
    ASSERT_TRUE(aj::test::eventually([&] { return env.files(env.queue("requests")).empty(); }, aj::test::kSlowCeiling));
    EXPECT_FALSE(fs::exists(resp + "proto.req.result.json"));
}

TEST_F(Compat, QueueDirServesAPrototypeDataDirectoryInPlace) {
    stage_prototype_package(env);
    const std::string data = env.tmp.path() + "/data";
    fs::create_directories(data + "/requests");  // responses/ and claimed/ are created
    write_in_place(data + "/requests/acme.testpkg-1.req", R"({"plugin": "acme.testpkg", "cmd": "sh run.sh"})");
    // Others must not be able to rearrange the directory the daemon writes below.
    ::chmod(data.c_str(), 0777);
    auto r = env.aj({"host", "--queue-dir", data});
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_NE(r.err.find("not be writable by other users"), std::string::npos) << r.err;
    ::chmod(data.c_str(), 0755);

    const std::string pidfile = env.tmp.path() + "/host.pid";
    r = env.aj({"host", "--queue-dir", data, "--daemonize", "--pidfile", pidfile, "--log", env.tmp.path() + "/host.log"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const pid_t pid = std::stoi(slurp(pidfile));
    ASSERT_GT(pid, 1);
    // The daemon is not our child: whatever happens below, it is stopped (by its pid).
    struct Stop {
        pid_t pid;
        std::string pidfile;
        ~Stop() {
            if (fs::exists(pidfile)) ::kill(pid, SIGKILL);
        }
    } stop{pid, pidfile};
    EXPECT_TRUE(fs::exists(env.state + "/host.heartbeat"));  // the same heartbeat
    bool answered = wait_file(data + "/responses/acme.testpkg-1.req.result.json");
    if (answered) {
        json ok = read_json(data + "/responses/acme.testpkg-1.req.result.json");
        EXPECT_EQ(ok["result"]["rc"], 0) << ok.dump();
        EXPECT_EQ(ok["result"]["stdout"], "hello-sandbox\n");
    }
    // A second daemon on the same queue is refused.
    r = env.aj({"host", "--queue-dir", data});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("already serving"), std::string::npos) << r.err;
    ASSERT_EQ(::kill(pid, SIGTERM), 0);
    // It drains and removes its pid file as it exits.
    EXPECT_TRUE(aj::test::eventually([&] { return !fs::exists(pidfile); }, aj::test::kSlowCeiling));
    EXPECT_TRUE(aj::test::eventually(
        [&] { return slurp(env.tmp.path() + "/host.log").find("drained; exiting") != std::string::npos; },
        aj::test::kSlowCeiling));
    EXPECT_TRUE(answered) << slurp(env.tmp.path() + "/host.log");
}

// `sh run.sh` in a /work that starts with the package's files; whatever the run writes,
// adds or removes, the staged package stays byte for byte what was staged.
void check_work_starts_with_package(const PluginEnv& env, const std::vector<std::string>& extra_env, const char* mode) {
    stage_prototype_package(env);
    const std::string staged = env.state + "/plugins/acme.testpkg";
    const auto before = tree(staged);
    const std::string script =
        "sh run.sh; cat data/input.txt; echo new > created; cat created; "
        "(echo more >> run.sh) 2>/dev/null; (echo x > data/input.txt) 2>/dev/null; "
        "rm -f manifest.json 2>/dev/null; mkdir -p d/e && echo deep > d/e/f && cat d/e/f";
    std::vector<std::string> argv{aj::test::aj_bin(), "run", "--state-dir", env.state, "--plugin", "acme.testpkg",
                                  "--json", "--", "/bin/sh", "-c", script};
    auto r = aj::test::run_process(argv, "", extra_env, 120);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // --json ends stdout with a line break of its own and the report (runner/report.hpp).
    EXPECT_EQ(r.out.substr(0, r.out.find('{')), "hello-sandbox\ninput\nnew\ndeep\n\n");
    auto report = json::parse(r.out.substr(r.out.find('{')));
    EXPECT_EQ(report["work"], mode);
    EXPECT_EQ(tree(staged), before) << "a run's writes reached the plugin store";
    // The run's own writes are kept in its run directory, as before.
    const std::string work = report["run_dir"].get<std::string>() + "/work";
    EXPECT_EQ(slurp(work + "/created"), "new\n");
    EXPECT_EQ(slurp(work + "/d/e/f"), "deep\n");
}

TEST_F(Compat, WorkStartsWithThePackageAsAnOverlayAndWritesNeverReachTheStore) {
    check_work_starts_with_package(env, {}, "overlay");
}

TEST_F(Compat, WorkStartsWithACopyWhereOverlayIsNotUsed) {
    check_work_starts_with_package(env, {"AURORA_JAIL_NO_OVERLAY=1"}, "copy");
}

TEST_F(Compat, NonExecutableEntrypointStagesButNeedsACommand) {
    stage_prototype_package(env);
    auto r = env.aj({"run", "--plugin", "acme.testpkg"});
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_NE(r.err.find("is not executable; give a command"), std::string::npos) << r.err;
    r = env.aj({"run", "--plugin", "acme.testpkg", "--", "sh", "run.sh"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "hello-sandbox\n");
}

TEST_F(Compat, SubmitTakesAShellString) {
    stage_prototype_package(env);
    Daemon daemon(env);
    auto r = env.aj({"submit", "--plugin", "acme.testpkg", "--wait", "--wait-timeout", "150", "-c",
                     "echo x; sh run.sh; exit 3"});
    EXPECT_EQ(r.exit_code, 3) << r.err << daemon.log();
    EXPECT_EQ(r.out, "x\nhello-sandbox\n");
    r = env.aj({"submit", "--plugin", "acme.testpkg", "-c", "true", "--", "/bin/true"});
    EXPECT_NE(r.exit_code, 0);  // a shell string or an argv, not both
}

TEST_F(Compat, RequestLimitsMayOnlyTightenThePolicy) {
    fs::create_directories(env.state + "/policies");
    env.tmp.write("state/policies/tight.json",
                  R"({"allowed_paths": ["/usr", "/bin", "/lib", "/lib64"], "max_memory_mb": 256, "timeout_sec": 20})");
    env.stage("tight", "\"run.sh\"", R"(, "policy": "tight")");
    Daemon daemon(env);
    auto r = env.aj({"submit", "--plugin", "tight", "--memory-mb", "512", "--wait", "--wait-timeout", "150", "--",
                     "/bin/true"});
    EXPECT_EQ(r.exit_code, 125) << daemon.log();
    EXPECT_NE(r.err.find("memory_mb 512 exceeds plugin tight's policy (max_memory_mb 256); a request may only "
                         "tighten"),
              std::string::npos)
        << r.err;
    r = env.aj({"submit", "--plugin", "tight", "--timeout", "60", "--wait", "--wait-timeout", "150", "--", "/bin/true"});
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_NE(r.err.find("timeout 60 exceeds plugin tight's policy (timeout_sec 20)"), std::string::npos) << r.err;
    // The prototype's .req with a loosening timeout: an error response, nothing runs.
    write_in_place(env.queue("requests") + "/loose.req", R"({"plugin": "tight", "cmd": "true", "timeout": 3600})");
    ASSERT_TRUE(wait_file(env.queue("responses") + "/loose.req.error.json")) << daemon.log();
    EXPECT_NE(slurp(env.queue("responses") + "/loose.req.error.json").find("may only tighten"), std::string::npos);
    // Tighter is applied: the sandbox's memory limit is the request's.
    r = env.aj({"submit", "--plugin", "tight", "--memory-mb", "64", "--timeout", "15", "-c", "true"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::string name = r.out.substr(0, r.out.find('\n'));
    ASSERT_TRUE(wait_file(env.queue("responses") + "/" + name + ".result.json")) << daemon.log();
    json resp = read_json(env.queue("responses") + "/" + name + ".result.json");
    EXPECT_EQ(resp["rc"], 0) << resp.dump();
    EXPECT_EQ(resp["report"]["enforced"]["limits"]["memory_mb"]["value"], 64) << resp["report"]["enforced"].dump();
    EXPECT_EQ(resp["report"]["enforced"]["limits"]["timeout_sec"]["value"], 15);
    // `run --memory-mb` follows the same rule.
    r = env.aj({"run", "--plugin", "tight", "--memory-mb", "1024", "--", "/bin/true"});
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_NE(r.err.find("may only tighten"), std::string::npos) << r.err;
}
