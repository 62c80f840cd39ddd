// Grants below granted trees (issue 15) and the submounts a granted tree carries
// (issue 11, item 6), in real sandboxes. Fixtures live in a temporary directory the
// sandbox's uid can reach (as root and as uid 65534).
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "tests/support/jail.hpp"

namespace aj::test {
namespace {

namespace fs = std::filesystem;

// A fixture tree everyone can read and, where asked, write: a root caller's sandbox runs
// as another uid than the test.
std::string open_dir(const std::string& path, bool writable = false) {
    fs::create_directories(path);
    ::chmod(path.c_str(), writable ? 0777 : 0755);
    return path;
}

// Issue 15's report, with a fixture in place of /usr/share/go: a symlink listed below a
// granted tree failed the run with "creating symlink ...: EEXIST" (exit 125).
TEST(RunMountNesting, SymlinkBelowAGrantedTree) {
    TempDir dir;
    open_dir(dir.path());
    const std::string tree = open_dir(dir.path() + "/share");
    open_dir(tree + "/go-1.19");
    dir.write("share/go-1.19/VERSION", "go1.19\n");
    fs::create_directory_symlink("go-1.19", tree + "/go");
    auto policy = write_policy(dir, {{"allowed_paths", {tree, tree + "/go"}}});
    auto r = run_aj(sh_args(policy, "cat " + tree + "/go/VERSION && readlink " + tree + "/go"));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "go1.19\ngo-1.19\n") << r.err;
}

TEST(RunMountNesting, ReadWriteInsideReadOnlyAndReadOnlyInsideReadWrite) {
    TempDir dir;
    open_dir(dir.path());
    const std::string ro = open_dir(dir.path() + "/ro", true);
    const std::string ro_rw = open_dir(ro + "/rw", true);
    const std::string rw = open_dir(dir.path() + "/rw", true);
    const std::string rw_ro = open_dir(rw + "/ro", true);
    dir.write("ro/file", "", 0666);
    auto policy = write_policy(dir, {{"allowed_paths",
                                      {ro, {{"path", ro_rw}, {"mode", "rw"}}, {{"path", rw}, {"mode", "rw"}}, rw_ro,
                                       {{"path", ro + "/file"}, {"mode", "rw"}}}}});
    auto attempt = [](const std::string& path) {
        return "if touch " + path + " 2>/dev/null; then echo w; else echo r; fi; ";
    };
    auto r = run_aj(sh_args(policy, attempt(ro + "/new") + attempt(ro_rw + "/new") + attempt(rw + "/new") +
                                        attempt(rw_ro + "/new") + "echo data >> " + ro + "/file && echo w"));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "r\nw\nw\nr\nw\n") << r.err;
    EXPECT_TRUE(fs::exists(ro_rw + "/new"));
    EXPECT_FALSE(fs::exists(ro + "/new"));
    EXPECT_FALSE(fs::exists(rw_ro + "/new"));
}

// /sys granted read-only: the host's cgroup tree below it is hidden (an empty directory),
// so the sandbox can neither read its layout nor write to it.
TEST(RunMountNesting, SysGrantedReadOnlyCarriesNoCgroupTree) {
    struct stat st {};
    if (::stat("/sys/fs/cgroup", &st) != 0) GTEST_SKIP() << "no /sys/fs/cgroup on this host";
    TempDir dir;
    open_dir(dir.path());
    auto policy = write_policy(dir, {{"allowed_paths", {"/sys"}}});
    auto r = run_aj(sh_args(policy, "ls -A /sys/fs/cgroup | wc -l; ls /sys/kernel >/dev/null && echo sys-ok"));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "0\nsys-ok\n") << r.err;
}

// A procfs mounted below a granted directory (in a private mount namespace of this test,
// so nothing changes on the host) is hidden inside: it would show the processes outside.
TEST(RunMountNesting, ProcfsBelowAGrantedTreeIsHidden) {
    if (::access("/usr/bin/unshare", X_OK) != 0) GTEST_SKIP() << "no unshare(1)";
    // An ordinary user could mount a procfs only in a user namespace of its own, where
    // aurora-jail would then be a root caller without the uids a root caller's sandbox maps.
    if (!running_as_root()) GTEST_SKIP() << "mounting a procfs on the test's tree needs root";
    TempDir dir;
    open_dir(dir.path());
    const std::string tree = open_dir(dir.path() + "/srv");
    open_dir(tree + "/proc");
    dir.write("srv/data", "data\n", 0644);
    auto policy = write_policy(dir, {{"allowed_paths", {tree}}});
    const std::string script = "mount -t proc proc " + tree + "/proc && ls " + tree + "/proc/self >/dev/null && " +
                               "echo mounted && " + aj_bin() + " run --policy " + policy + " -- /bin/sh -c 'cat " +
                               tree + "/data; ls -A " + tree + "/proc | wc -l'";
    auto r = run_process({"/usr/bin/unshare", "-m", "--propagation", "private", "/bin/sh", "-c", script});
    if (r.out.find("mounted\n") != 0) GTEST_SKIP() << "cannot mount a procfs here: " << r.err;
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "mounted\ndata\n0\n") << r.err;
}

}  // namespace
}  // namespace aj::test
