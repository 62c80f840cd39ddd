// run_sandbox(), the library form of `aurora-jail run` that the host daemon's launcher
// calls in-process: its before_command gate (the daemon's claim must be durable before a
// request's command runs) holds the command back, and a refusal there means the command
// never ran.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>

#include "policy/error.hpp"
#include "runner/run_sandbox.hpp"
#include "tests/integration/plugin_support.hpp"

namespace fs = std::filesystem;

namespace {

// A directory the sandbox may write (bound rw as its workdir, whatever host uid it gets).
struct Workdir {
    aj::test::TempDir tmp;
    std::string dir = tmp.path() + "/w";
    Workdir() {
        fs::create_directory(dir);
        ::chmod(tmp.path().c_str(), 0755);
        ::chmod(dir.c_str(), 0777);
    }
    aj::runner::RunOptions touching(const std::string& file) const {
        aj::runner::RunOptions o;
        o.workdir = dir;
        o.command = {"/bin/sh", "-c", "touch " + file};
        return o;
    }
};

}  // namespace

TEST(RunSandbox, CommandStartsAfterBeforeCommandCalledOnce) {
    AJ_REQUIRE_SANDBOX();
    Workdir w;
    int calls = 0;
    bool ran_before_release = true;
    aj::runner::RunOptions o = w.touching("ran");
    o.before_command = [&] {
        ++calls;
        // The sandbox is built, its command not started yet.
        ran_before_release = fs::exists(w.dir + "/ran");
    };
    EXPECT_EQ(aj::runner::run_sandbox(o), 0);
    EXPECT_EQ(calls, 1);
    EXPECT_FALSE(ran_before_release);
    EXPECT_TRUE(fs::exists(w.dir + "/ran"));
}

TEST(RunSandbox, ThrowingBeforeCommandMeansTheCommandNeverRuns) {
    AJ_REQUIRE_SANDBOX();
    Workdir w;
    aj::runner::RunOptions o = w.touching("ran");
    o.before_command = [] { throw aj::Error("claim not durable"); };
    try {
        aj::runner::run_sandbox(o);
        ADD_FAILURE() << "the run went on without its release";
    } catch (const aj::Error& e) {
        EXPECT_NE(std::string(e.what()).find("claim not durable"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(w.dir + "/ran")) << "the command ran although its release was refused";
}
