// Staging into the plugin store with a real temp dir: good packages, every refused kind of
// entry, and atomic replacement.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "policy/sys.hpp"
#include "policy/error.hpp"
#include "runner/plugin_store.hpp"
#include "tests/support/process.hpp"

namespace fs = std::filesystem;
using aj::runner::PluginStore;
using aj::runner::StateDir;
using aj::test::TempDir;

namespace {

std::string manifest(const std::string& id, const std::string& version = "1.0",
                     const std::string& entry = "\"run.sh\"") {
    return R"({"id":")" + id + R"(","name":"Test","version":")" + version +
           R"(","entrypoint":)" + entry + "}";
}

struct Fixture {
    TempDir tmp;
    std::string pkg = tmp.path() + "/pkg";
    StateDir state{tmp.path() + "/state"};
    PluginStore store{state};

    Fixture() {
        tmp.write("pkg/manifest.json", manifest("acme.testpkg"));
        tmp.write("pkg/run.sh", "#!/bin/sh\necho hello-sandbox\n", 0755);
        tmp.write("pkg/lib/data.txt", "data\n");
    }

    std::string stage_error() {
        try {
            store.stage(pkg);
        } catch (const aj::Error& e) {
            return e.what();
        }
        return "";
    }

    // No temp or old tree may remain in plugins/ after a stage, good or refused. The
    // store's lock and the runs' in-use lock files (plain files, kept on purpose) may.
    void expect_no_leftovers() {
        for (const auto& e : fs::directory_iterator(state.plugins())) {
            std::string name = e.path().filename();
            const bool lock_file = name == ".lock" || (name.rfind(".in-use-", 0) == 0 && e.is_regular_file());
            EXPECT_TRUE(lock_file || name[0] != '.') << "leftover " << e.path();
        }
    }
};

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST(StageTest, StagesAGoodPackage) {
    Fixture f;
    auto staged = f.store.stage(f.pkg);
    EXPECT_EQ(staged.manifest.id, "acme.testpkg");
    EXPECT_EQ(staged.path, f.state.plugins() + "/acme.testpkg");
    EXPECT_EQ(slurp(staged.path + "/lib/data.txt"), "data\n");
    struct stat st{};
    ASSERT_EQ(::stat((staged.path + "/run.sh").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0755u);
    ASSERT_EQ(::stat((staged.path + "/lib/data.txt").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0644u);
    ASSERT_EQ(::stat((staged.path + "/lib").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0755u);
    auto list = f.store.list();
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].manifest.id, "acme.testpkg");
    EXPECT_EQ(f.store.find("acme.testpkg").manifest.version, "1.0");
    f.store.unstage("acme.testpkg");
    EXPECT_TRUE(f.store.list().empty());
    EXPECT_THROW(f.store.find("acme.testpkg"), aj::Error);
    EXPECT_THROW(f.store.unstage("acme.testpkg"), aj::Error);
}

TEST(StageTest, DropsSetuidBitsAndCopiesHardLinksAsFiles) {
    Fixture f;
    f.tmp.write("pkg/suid", "x", 04755);
    ASSERT_EQ(::link((f.pkg + "/lib/data.txt").c_str(), (f.pkg + "/hard").c_str()), 0);
    auto staged = f.store.stage(f.pkg);
    struct stat st{};
    ASSERT_EQ(::stat((staged.path + "/suid").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0755u);
    ASSERT_EQ(::stat((staged.path + "/hard").c_str(), &st), 0);
    EXPECT_EQ(st.st_nlink, 1u);
}

TEST(StageTest, KeepsSymlinksThatStayInside) {
    Fixture f;
    ASSERT_EQ(::symlink("lib/data.txt", (f.pkg + "/alias").c_str()), 0);
    ASSERT_EQ(::symlink("../run.sh", (f.pkg + "/lib/up").c_str()), 0);
    auto staged = f.store.stage(f.pkg);
    EXPECT_EQ(fs::read_symlink(staged.path + "/alias"), "lib/data.txt");
    EXPECT_EQ(slurp(staged.path + "/lib/up"), "#!/bin/sh\necho hello-sandbox\n");
}

TEST(StageTest, RefusesEscapingSymlink) {
    Fixture f;
    ASSERT_EQ(::symlink("../../etc/passwd", (f.pkg + "/lib/evil").c_str()), 0);
    EXPECT_NE(f.stage_error().find("points outside the package"), std::string::npos);
    f.expect_no_leftovers();
}

TEST(StageTest, RefusesAbsoluteSymlink) {
    Fixture f;
    ASSERT_EQ(::symlink("/etc/passwd", (f.pkg + "/evil").c_str()), 0);
    EXPECT_NE(f.stage_error().find("is absolute"), std::string::npos);
    f.expect_no_leftovers();
}

TEST(StageTest, RefusesSymlinkChainThatClimbsOut) {
    // Each link looks inside on its own; together d/up2 resolves to the package's parent.
    Fixture f;
    fs::create_directory(f.pkg + "/d");
    ASSERT_EQ(::symlink("..", (f.pkg + "/d/up").c_str()), 0);
    ASSERT_EQ(::symlink("up/..", (f.pkg + "/d/up2").c_str()), 0);
    EXPECT_NE(f.stage_error().find("resolves outside the package"), std::string::npos);
    f.expect_no_leftovers();
}

TEST(StageTest, RefusesFifo) {
    Fixture f;
    ASSERT_EQ(::mkfifo((f.pkg + "/lib/pipe").c_str(), 0644), 0);
    EXPECT_NE(f.stage_error().find("lib/pipe is a fifo"), std::string::npos);
    f.expect_no_leftovers();
}

TEST(StageTest, RefusesSocket) {
    Fixture f;
    int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
    ASSERT_GE(s, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::string path = f.pkg + "/sock";
    ASSERT_LT(path.size(), sizeof addr.sun_path);
    std::strcpy(addr.sun_path, path.c_str());
    ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::close(s);
    EXPECT_NE(f.stage_error().find("sock is a socket"), std::string::npos);
}

TEST(StageTest, RefusesDevice) {
    if (!aj::test::running_as_root()) GTEST_SKIP() << "mknod of a device needs root";
    Fixture f;
    if (::mknod((f.pkg + "/null").c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0)
        GTEST_SKIP() << "mknod refused here: " << aj::errno_text(errno);
    EXPECT_NE(f.stage_error().find("null is a character device"), std::string::npos);
}

TEST(StageTest, RefusesManifestProblems) {
    Fixture f;
    f.tmp.write("pkg/manifest.json", manifest("../x"));
    EXPECT_NE(f.stage_error().find("/id"), std::string::npos);
    f.tmp.write("pkg/manifest.json", manifest("ok", "1", "\"missing.sh\""));
    EXPECT_NE(f.stage_error().find("missing.sh"), std::string::npos);
    f.tmp.write("pkg/manifest.json", manifest("ok", "1", "\"lib\""));
    EXPECT_NE(f.stage_error().find("not a regular file"), std::string::npos);
    fs::remove(f.pkg + "/manifest.json");
    ASSERT_EQ(::symlink("lib/data.txt", (f.pkg + "/manifest.json").c_str()), 0);
    EXPECT_NE(f.stage_error().find("manifest.json"), std::string::npos);
    fs::remove(f.pkg + "/manifest.json");
    EXPECT_NE(f.stage_error().find("manifest.json"), std::string::npos);
    f.expect_no_leftovers();
}

TEST(StageTest, EnforcesSizeAndCountCaps) {
    Fixture f;
    f.tmp.write("pkg/big", std::string(200 * 1024, 'x'));
    aj::runner::CopyLimits small;
    small.max_bytes = 100 * 1024;
    EXPECT_THROW(f.store.stage(f.pkg, small), aj::Error);
    aj::runner::CopyLimits few;
    few.max_entries = 3;
    EXPECT_THROW(f.store.stage(f.pkg, few), aj::Error);
    f.expect_no_leftovers();
}

TEST(StageTest, ReplaceIsAtomicAndComplete) {
    Fixture f;
    f.tmp.write("pkg/old-only.txt", "old\n");
    f.store.stage(f.pkg);
    fs::remove(f.pkg + "/old-only.txt");
    f.tmp.write("pkg/manifest.json", manifest("acme.testpkg", "2.0"));
    f.tmp.write("pkg/new-only.txt", "new\n");
    f.tmp.write("pkg/lib/data.txt", "data v2\n");
    auto staged = f.store.stage(f.pkg);
    EXPECT_EQ(staged.manifest.version, "2.0");
    EXPECT_FALSE(fs::exists(staged.path + "/old-only.txt"));
    EXPECT_EQ(slurp(staged.path + "/new-only.txt"), "new\n");
    EXPECT_EQ(slurp(staged.path + "/lib/data.txt"), "data v2\n");
    f.expect_no_leftovers();
}

TEST(StageTest, FailedReplaceKeepsOldVersion) {
    Fixture f;
    f.store.stage(f.pkg);
    f.tmp.write("pkg/manifest.json", manifest("acme.testpkg", "2.0"));
    ASSERT_EQ(::symlink("/etc/passwd", (f.pkg + "/evil").c_str()), 0);
    EXPECT_THROW(f.store.stage(f.pkg), aj::Error);
    EXPECT_EQ(f.store.find("acme.testpkg").manifest.version, "1.0");
}

TEST(StageTest, CleansLeftoversOfAnInterruptedStage) {
    Fixture f;
    fs::create_directories(f.state.plugins() + "/.stage-crashed/sub");
    f.tmp.write("state/plugins/.stage-crashed/sub/file", "x");
    f.store.stage(f.pkg);
    EXPECT_FALSE(fs::exists(f.state.plugins() + "/.stage-crashed"));
}

TEST(StageTest, RemoveTreeHandlesDeepTrees) {
    Fixture f;
    // Deeper than any fd budget would allow when recursing with one fd per level.
    std::string base = f.tmp.path() + "/deep";
    fs::create_directory(base);
    aj::sys::UniqueFd dir = aj::sys::open_fd(base, O_RDONLY | O_DIRECTORY, "open");
    for (int i = 0; i < 3000; ++i) {
        ASSERT_EQ(::mkdirat(dir.get(), "d", 0700), 0);
        dir.reset(::openat(dir.get(), "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        ASSERT_TRUE(dir.valid());
    }
    dir.reset();
    aj::sys::UniqueFd parent = aj::sys::open_fd(f.tmp.path(), O_RDONLY | O_DIRECTORY, "open");
    aj::runner::remove_tree(parent.get(), "deep");
    EXPECT_FALSE(fs::exists(base));
}

TEST(StateDirTest, RefusesAStateDirBelowAWorldWritableDirectory) {
    TempDir tmp;
    std::string open_dir = tmp.path() + "/open";
    fs::create_directory(open_dir);
    ::chmod(open_dir.c_str(), 0777);
    EXPECT_THROW(StateDir(open_dir + "/state"), aj::Error);
    // Sticky world-writable (like /tmp) is fine: others cannot rename our entries.
    ::chmod(open_dir.c_str(), 01777);
    EXPECT_NO_THROW(StateDir(open_dir + "/state"));
    // A symlink planted as a state sub-directory is refused, never followed.
    fs::remove(open_dir + "/state/logs");
    fs::create_directory_symlink(tmp.path(), open_dir + "/state/logs");
    EXPECT_THROW(StateDir(open_dir + "/state"), aj::Error);
}
