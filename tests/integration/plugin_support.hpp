// Shared by the plugin, background and host integration tests: a temp state directory
// with a staged test plugin, and a host daemon process the test can signal.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/process.hpp"

extern char** environ;

namespace aj::test {

// True when this host gives aurora-jail its sandbox (namespaces) for this user.
inline bool sandbox_works(std::string* why = nullptr) {
    ProcessResult r = run_aj({"run", "--", "/bin/true"});
    if (why) *why = r.err;
    return r.exit_code == 0;
}

#define AJ_REQUIRE_SANDBOX()                                                         \
    do {                                                                             \
        std::string why_;                                                            \
        if (!::aj::test::sandbox_works(&why_))                                       \
            GTEST_SKIP() << "aurora-jail run -- /bin/true fails here: " << why_;     \
    } while (0)

struct PluginEnv {
    TempDir tmp;
    std::string state = tmp.path() + "/state";
    std::string pkg = tmp.path() + "/pkg";

    // timeout_sec: a hung CLI is killed then (generous: `submit --wait` waits up to 120 s).
    ProcessResult aj(std::vector<std::string> args, int timeout_sec = 180) const {
        // --state-dir goes right after the sub-command (before any "-- CMD").
        args.insert(args.begin() + 1, {"--state-dir", state});
        return run_aj(args, "", timeout_sec);
    }

    // Writes a package with `manifest` and run.sh, stages it, and checks that it worked.
    void stage(const std::string& id, const std::string& entry = "\"run.sh\"",
               const std::string& extra = "") {
        std::filesystem::remove_all(pkg);
        tmp.write("pkg/manifest.json", R"({"id":")" + id + R"(","name":"Test","version":"1.0","entrypoint":)" +
                                           entry + extra + "}");
        tmp.write("pkg/run.sh", "#!/bin/sh\necho hello-sandbox\necho \"cwd=$(pwd)\"\n", 0755);
        ProcessResult r = aj({"stage", pkg});
        ASSERT_EQ(r.exit_code, 0) << r.err;
    }

    std::string queue(const std::string& sub) const { return state + "/queue/" + sub; }

    std::vector<std::string> files(const std::string& dir) const {
        std::vector<std::string> out;
        for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().filename());
        return out;
    }
};

// The fixture of the tests that run something: skipped where the host gives no sandbox;
// a fresh state directory each.
class SandboxedPluginTest : public testing::Test {
protected:
    void SetUp() override { AJ_REQUIRE_SANDBOX(); }
    PluginEnv env;
};

inline std::string slurp(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// How a test's daemon is started, beyond its options.
struct DaemonSpawn {
    std::vector<std::string> wrapper;  // runs the daemon's command line (and execs it)
    std::vector<std::string> env;      // NAME=VALUE added to the daemon's environment
};

// `aurora-jail host` as a child process; stderr goes to a log file for diagnostics.
class Daemon {
public:
    // `warm`: host --warm (warm sandboxes per plugin; runner/warm_pool.hpp), always given:
    // 0 is a daemon without a pool (the daemon's own default is 2).
    Daemon(const PluginEnv& env, unsigned workers = 2, unsigned warm = 0, const DaemonSpawn& spawn = {})
        : log_(env.tmp.path() + "/host.log") {
        log_start_ = slurp(log_).size();  // the log is shared by the daemons of one test
        std::vector<std::string> args = spawn.wrapper;
        for (std::string a : {aj_bin(), std::string("host"), std::string("--state-dir"), env.state,
                              std::string("--workers"), std::to_string(workers)})
            args.push_back(std::move(a));
        args.insert(args.end(), {"--warm", std::to_string(warm)});
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        std::vector<std::string> env_strings = spawn.env;
        for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
        std::vector<char*> envp;
        for (auto& e : env_strings) envp.push_back(e.data());
        envp.push_back(nullptr);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 2, log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        int rc = posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), envp.data());
        posix_spawn_file_actions_destroy(&fa);
        if (rc != 0) throw std::runtime_error("spawning aurora-jail host failed");
    }
    ~Daemon() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            wait();
        }
    }
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    void signal(int sig) const { ::kill(pid_, sig); }
    pid_t pid() const { return pid_; }
    // Exit status (128+N for a signal); -1 when it did not exit within `timeout`.
    int wait(std::chrono::seconds timeout = std::chrono::seconds(120)) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (pid_ > 0) {
            int status = 0;
            pid_t w = ::waitpid(pid_, &status, WNOHANG);
            if (w == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            if (std::chrono::steady_clock::now() > deadline) return -1;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return -1;
    }
    std::string log() const { return slurp(log_); }
    // True once this daemon logged that it serves, i.e. its signal handling is in place:
    // a SIGTERM before that point ends it like any process (143), not by draining.
    bool wait_serving(std::chrono::seconds timeout = std::chrono::seconds(120)) const {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            if (slurp(log_).find("serving ", log_start_) != std::string::npos) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
    }

private:
    pid_t pid_ = -1;
    std::string log_;
    std::size_t log_start_ = 0;
};

// The ceiling for waits on something the product does by itself (a response, a sandbox
// starting, a process going away). CI runs under ASan (about 3x slower) with two tests
// at once on 2 cores: ceilings tuned on an idle machine fail there. eventually() returns
// as soon as the condition holds, so a generous ceiling costs nothing when things work.
inline constexpr std::chrono::seconds kSlowCeiling{180};

// Waits until `pred()` or the timeout; returns pred().
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return pred();
}

}  // namespace aj::test
