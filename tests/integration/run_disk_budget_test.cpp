// The disk budget (issue 12 item 1): max_disk_mb and max_files hold for every writable
// place a run is granted (--workdir, a plugin run's overlay /work, a --detach run's logs),
// in namespaces and rlimit-only mode; the run ends with "disk budget" named and the
// report's hit flag; fallocate(FALLOC_FL_KEEP_SIZE) cannot pass max_file_size_mb.
#include <linux/falloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/integration/fallback_no_userns.hpp"
#include "tests/integration/plugin_support.hpp"
#include "tests/support/jail.hpp"

namespace aj::test {
namespace {

constexpr std::uint64_t kMiB = 1024 * 1024;

nlohmann::json read_json(const std::string& path) {
    std::ifstream in(path);
    return nlohmann::json::parse(in);
}

// Bytes allocated below `dir` (st_blocks), and how many inodes.
std::pair<std::uint64_t, std::uint64_t> usage_of(const std::string& dir) {
    std::uint64_t bytes = 0, inodes = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
        struct stat st{};
        if (::lstat(e.path().c_str(), &st) != 0) continue;
        bytes += static_cast<std::uint64_t>(st.st_blocks) * 512;
        ++inodes;
    }
    return {bytes, inodes};
}

// 1 MiB files, one after the other, until killed: at most 256 MiB (and then exit 0, so a
// budget that did not hold fails the test without filling the host's disk).
const char* kFillDisk =
    "i=0; while [ $i -lt 256 ]; do head -c 1048576 /dev/zero > f$i || exit 3; i=$((i+1)); done; exit 0";
// Empty files, until killed: at most 5000.
// Creates up to kFillCount files as fast as the shell can: a run the budget ends never
// gets to the last (how many it made first depends on the host's load, not on the check).
constexpr unsigned kFillCount = 20000;
const char* kFillInodes = "i=0; while [ $i -lt 20000 ]; do : > n$i || exit 3; i=$((i+1)); done; exit 0";

// A directory the sandbox's uid may write (an ordinary caller's own; root's lease gets
// its workdir given by the test the way a user would: world-writable).
std::string writable_dir(const TempDir& tmp, const std::string& name) {
    std::string dir = tmp.path() + "/" + name;
    std::filesystem::create_directory(dir);
    ::chmod(dir.c_str(), 01777);
    return dir;
}

class DiskBudget : public testing::TestWithParam<bool> {
protected:
    void SetUp() override {
        if (!GetParam()) AJ_REQUIRE_SANDBOX();
    }
    // aurora-jail ARGS, in rlimit-only mode when the parameter says so.
    ProcessResult aj(const std::vector<std::string>& args) const {
        std::vector<std::string> argv = {aj_bin()};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_process(GetParam() ? without_namespaces(argv) : argv, "", {}, 120);
    }
    TempDir tmp;
};

TEST_P(DiskBudget, WritingPastMaxDiskMbInTheWorkdirEndsTheRun) {
    const std::string work = writable_dir(tmp, "work");
    const std::string policy = write_policy(tmp, {{"max_disk_mb", 16}, {"max_files", nullptr}});
    const std::string report = tmp.path() + "/report.json";
    ProcessResult r = aj({"run", "--policy", policy, "--workdir", work, "--report", report, "--", "/bin/sh", "-c",
                          kFillDisk});
    EXPECT_EQ(r.exit_code, 137) << r.err;
    EXPECT_NE(r.err.find("disk budget"), std::string::npos) << r.err;
    const nlohmann::json disk = read_json(report)["enforced"]["limits"]["disk_mb"];
    EXPECT_EQ(disk["value"], 16) << disk.dump();
    EXPECT_EQ(disk["hit"], true) << disk.dump();
    EXPECT_EQ(disk["backend"], "accounting") << disk.dump();
    EXPECT_EQ(disk["scope"].get<std::string>().rfind("total", 0), 0u) << disk.dump();
    // The overshoot is what the writer adds between two walks: bounded, and small here.
    const auto [bytes, inodes] = usage_of(work);
    EXPECT_LT(bytes, 16 * kMiB + 64 * kMiB) << "left " << bytes / kMiB << " MiB";
    RecordProperty("left_mib", static_cast<int>(bytes / kMiB));
}

TEST_P(DiskBudget, CreatingMoreThanMaxFilesEndsTheRun) {
    const std::string work = writable_dir(tmp, "work");
    const std::string policy = write_policy(tmp, {{"max_files", 300}});
    const std::string report = tmp.path() + "/report.json";
    ProcessResult r = aj({"run", "--policy", policy, "--workdir", work, "--report", report, "--", "/bin/sh", "-c",
                          kFillInodes});
    EXPECT_EQ(r.exit_code, 137) << r.err;
    EXPECT_NE(r.err.find("disk budget"), std::string::npos) << r.err;
    const nlohmann::json files = read_json(report)["enforced"]["limits"]["files"];
    EXPECT_EQ(files["hit"], true) << files.dump();
    // Ended before the writer was done: the overshoot is what it adds between two walks,
    // which grows with the host's load (4696 files under ASan on a loaded 2-core host).
    const auto [bytes, inodes] = usage_of(work);
    EXPECT_LT(inodes, kFillCount) << inodes;
}

// An rw allowed path is a writable place like the workdir.
TEST_P(DiskBudget, AnRwAllowedPathCountsToo) {
    const std::string out = writable_dir(tmp, "out");
    const std::string policy =
        write_policy(tmp, {{"max_disk_mb", 8}, {"allowed_paths", {{{"path", out}, {"mode", "rw"}}}}});
    ProcessResult r = aj({"run", "--policy", policy, "--", "/bin/sh", "-c", std::string("cd ") + out + " && " + kFillDisk});
    EXPECT_EQ(r.exit_code, 137) << r.err;
    EXPECT_NE(r.err.find("disk budget"), std::string::npos) << r.err;
}

// A file unlinked while open has no name for a walk to find: its blocks still count.
TEST_P(DiskBudget, AnUnlinkedOpenFileCounts) {
    const std::string work = writable_dir(tmp, "work");
    const std::string policy = write_policy(tmp, {{"max_disk_mb", 8}, {"max_file_size_mb", nullptr}});
    ProcessResult r = aj({"run", "--policy", policy, "--workdir", work, "--", "/bin/sh", "-c",
                          std::string("exec 3>hidden; rm hidden; i=0; while [ $i -lt 64 ]; do ") +
                              "head -c 1048576 /dev/zero >&3; i=$((i+1)); sleep 0.05; done; exit 0"});
    EXPECT_EQ(r.exit_code, 137) << r.err;
    EXPECT_NE(r.err.find("disk budget"), std::string::npos) << r.err;
}

// A process the runner may not inspect (not dumpable: in rlimit-only mode an ordinary
// caller's runner cannot list its descriptors) writing an unlinked file ends the run.
TEST_P(DiskBudget, AProcessHidingItsOpenFilesEndsTheRun) {
    const std::string work = writable_dir(tmp, "work");
    const std::string policy = write_policy(tmp, {{"max_disk_mb", 8}, {"max_file_size_mb", nullptr}});
    ProcessResult r = aj(probe_args(policy, "hidden-writes", {work + "/h", "64"}, {"--workdir", work}));
    EXPECT_EQ(r.exit_code, 137) << r.out << r.err;
    EXPECT_NE(r.err.find("disk budget"), std::string::npos) << r.err;
}

// Hiding what a directory holds by making it unreadable ends the run: unmeasurable is
// not free.
TEST_P(DiskBudget, ADirectoryMadeUnreadableEndsTheRun) {
    if (running_as_root()) GTEST_SKIP() << "root's walk reads a mode-000 directory anyway";
    const std::string work = writable_dir(tmp, "work");
    const std::string policy = write_policy(tmp, {{"max_disk_mb", 64}});
    ProcessResult r = aj({"run", "--policy", policy, "--workdir", work, "--", "/bin/sh", "-c",
                          "mkdir d && chmod 000 d && sleep 5; exit 0"});
    std::filesystem::permissions(work + "/d", std::filesystem::perms::owner_all);
    EXPECT_EQ(r.exit_code, 137) << r.err;
    EXPECT_NE(r.err.find("became unreadable"), std::string::npos) << r.err;
}

// fallocate(FALLOC_FL_KEEP_SIZE) allocates past the end without changing the size, so
// RLIMIT_FSIZE never sees it: refused (EOPNOTSUPP) in every mode, the raw call.
TEST_P(DiskBudget, FallocateKeepSizeIsRefused) {
    const std::string work = writable_dir(tmp, "work");
    const std::string policy = write_policy(tmp, {{"max_file_size_mb", 1}});
    for (const char* blocked_action : {"errno", "log"}) {
        const std::string p = write_policy(tmp, {{"max_file_size_mb", 1}, {"blocked_action", blocked_action}},
                                           std::string("p-") + blocked_action + ".json");
        // A file of its own per run: a root caller's runs have host ids of their own each.
        const std::string file = work + "/keep-" + blocked_action;
        ProcessResult r = aj(probe_args(p, "fallocate", {file, std::to_string(FALLOC_FL_KEEP_SIZE), "64"},
                                        {"--workdir", work}));
        EXPECT_EQ(r.out, "EOPNOTSUPP\n") << blocked_action << ": " << r.err;
        struct stat st{};
        ASSERT_EQ(::stat(file.c_str(), &st), 0);
        EXPECT_LT(static_cast<std::uint64_t>(st.st_blocks) * 512, kMiB);
        // Punching a hole (which needs KEEP_SIZE) frees blocks: allowed.
        r = aj(probe_args(p, "fallocate",
                          {work + "/punch-" + blocked_action,
                           std::to_string(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE), "1"},
                          {"--workdir", work}));
        EXPECT_EQ(r.out.rfind("ok", 0), 0u) << blocked_action << ": " << r.out << r.err;
    }
    // Growing the file (mode 0) meets max_file_size_mb.
    ProcessResult r = aj(probe_args(policy, "fallocate", {work + "/g", "0", "64"}, {"--workdir", work}));
    EXPECT_EQ(r.out, "EFBIG\n") << r.err;
    struct stat st{};
    ASSERT_EQ(::stat((work + "/g").c_str(), &st), 0);
    EXPECT_EQ(st.st_blocks, 0);
}

INSTANTIATE_TEST_SUITE_P(Modes, DiskBudget, testing::Values(false, true),
                         [](const testing::TestParamInfo<bool>& p) { return p.param ? "RlimitOnly" : "Namespaces"; });

// A plugin run's /work (the overlay of the staged package, or its copy) is in the budget.
class PluginDiskBudget : public SandboxedPluginTest {
protected:
    // The built-in policy with `limits`: not write_policy(), whose grant of the test binary
    // would lie inside the plugin's /work when the build tree is under /work.
    std::string policy_with(const nlohmann::json& limits) const {
        return env.tmp.write("limits.json", limits.dump());
    }
};

TEST_F(PluginDiskBudget, WritingPastTheBudgetInTheOverlayWorkEndsTheRun) {
    env.stage("acme.disk");
    const std::string policy = policy_with({{"max_disk_mb", 16}});
    const std::string report = env.tmp.path() + "/report.json";
    ProcessResult r = env.aj({"run", "--plugin", "acme.disk", "--policy", policy, "--report", report, "--", "/bin/sh",
                              "-c", kFillDisk});
    EXPECT_EQ(r.exit_code, 137) << r.err;
    EXPECT_NE(r.err.find("disk budget"), std::string::npos) << r.err;
    const nlohmann::json j = read_json(report);
    EXPECT_EQ(j["work"], "overlay") << j.dump();
    EXPECT_EQ(j["enforced"]["limits"]["disk_mb"]["hit"], true) << j.dump();
    const auto [bytes, inodes] = usage_of(j["run_dir"].get<std::string>() + "/work");
    EXPECT_LT(bytes, 16 * kMiB + 64 * kMiB) << "left " << bytes / kMiB << " MiB";
}

TEST_F(PluginDiskBudget, TheCopiedWorkOfAKernelWithoutOverlayIsInTheBudgetToo) {
    env.stage("acme.disk");
    const std::string policy = policy_with({{"max_files", 200}});
    std::vector<std::string> argv = {aj_bin(), "run", "--state-dir", env.state, "--plugin", "acme.disk", "--policy",
                                     policy, "--", "/bin/sh", "-c", kFillInodes};
    ProcessResult r = run_process(argv, "", {"AURORA_JAIL_NO_OVERLAY=1"}, 120);
    EXPECT_EQ(r.exit_code, 137) << r.err;
    EXPECT_NE(r.err.find("disk budget"), std::string::npos) << r.err;
}

// A --detach run's stdout.log is host disk the sandbox fills: capped at the budget.
TEST_F(PluginDiskBudget, ADetachedRunsLogCannotPassTheBudget) {
    const std::string policy = policy_with({{"max_disk_mb", 4}, {"timeout_sec", 30}});
    ProcessResult r = env.aj({"run", "--detach", "--policy", policy, "--", "/bin/sh", "-c",
                              "head -c 67108864 /dev/zero; echo done >&2; exit 0"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::string id = r.out.substr(0, r.out.find('\n'));
    nlohmann::json status;
    for (int i = 0; i < 1200; ++i) {
        ProcessResult s = env.aj({"status", "--json", id});
        status = nlohmann::json::parse(s.out, nullptr, false);
        if (status.is_object() && status.value("state", "") != "running") break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_TRUE(status.is_object());
    ASSERT_NE(status.value("state", ""), "running") << status.dump();
    const std::string dir = status.value("run_dir", std::string());
    struct stat st{};
    ASSERT_EQ(::stat((dir + "/stdout.log").c_str(), &st), 0);
    EXPECT_LE(static_cast<std::uint64_t>(st.st_size), 4 * kMiB);
    const std::string err = slurp(dir + "/stderr.log");
    EXPECT_NE(err.find("passed the disk budget"), std::string::npos) << err;
    EXPECT_EQ(read_json(dir + "/report.json")["enforced"]["limits"]["disk_mb"]["hit"], true);
}

}  // namespace
}  // namespace aj::test
