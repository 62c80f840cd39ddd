// Run directories: only a disposable run's directory whose creator is gone is removed by
// remove_abandoned_runs(); plain and background runs' directories are never touched.
#include <gtest/gtest.h>

#include <filesystem>

#include "policy/sys.hpp"
#include "runner/run_registry.hpp"
#include "runner/state_dir.hpp"
#include "tests/support/process.hpp"

namespace fs = std::filesystem;

TEST(RunDirs, OnlyAbandonedDisposableRunsAreRemoved) {
    aj::test::TempDir tmp;
    aj::runner::StateDir state(tmp.path() + "/state");
    aj::runner::RunRegistry runs(state);
    const std::string plain = runs.create_run();
    aj::runner::RunRecord background;
    background.id = runs.create_run();
    runs.write(background);
    std::string disposable;
    {
        aj::sys::UniqueFd hold;
        disposable = runs.create_disposable_run(hold);
        ASSERT_TRUE(hold.valid());
        EXPECT_TRUE(fs::exists(runs.work_dir(disposable)));
        // Its creator (this process, through `hold`) lives: nothing is removed.
        EXPECT_EQ(runs.remove_abandoned_runs(), 0u);
        EXPECT_TRUE(fs::exists(runs.run_dir(disposable)));
    }
    EXPECT_EQ(runs.remove_abandoned_runs(), 1u);
    EXPECT_FALSE(fs::exists(runs.run_dir(disposable)));
    EXPECT_TRUE(fs::exists(runs.run_dir(plain)));
    EXPECT_TRUE(fs::exists(runs.run_dir(background.id) + "/record.json"));
    EXPECT_EQ(runs.remove_abandoned_runs(), 0u);
}
