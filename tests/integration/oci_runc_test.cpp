// aurora-runc's runc-style lifecycle on a real sandbox: create leaves the container's init
// waiting, start releases it, state follows, kill and delete end it; a bundle the mapping
// cannot enforce is refused before anything runs (docs/oci.md).
#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/ptrace.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "helper/cgroup_discovery.hpp"
#include "helper/id_pool.hpp"
#include "policy/syscall_names.hpp"
#include "policy/sys.hpp"
#include "runner/fd_passing.hpp"
#include "tests/support/oci_default_mounts.hpp"
#include "tests/support/process.hpp"

namespace aj::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// $AJ_RUNC_BIN: set by ctest, and by as_nobody.sh for the uid 65534 rerun.
std::string runc_bin() {
    const char* bin = std::getenv("AJ_RUNC_BIN");
    return bin ? bin : "";
}

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// A bundle whose rootfs is a few merged-/usr symlinks with the host's /usr bound in
// read-only, plus a world-writable directory bound at /out for the process to write to.
class Bundle {
public:
    // `walkable`: every uid may walk down to the rootfs and the out directory (else the
    // temporary directory holding the bundle stays 0700, as Go's TempDir makes it).
    explicit Bundle(const json& process_args, const json& extra = json::object(), bool walkable = true) {
        fs::permissions(dir_.path(), walkable ? fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                                    fs::perms::others_read | fs::perms::others_exec
                                              : fs::perms::owner_all);
        bundle_ = dir_.path() + "/bundle";
        fs::create_directories(bundle_ + "/rootfs/etc");
        std::ofstream(bundle_ + "/rootfs/etc/greeting") << "from the rootfs\n";
        for (const char* link : {"bin", "lib", "lib64", "sbin"})
            fs::create_directory_symlink(std::string("usr/") + link, bundle_ + "/rootfs/" + link);
        out_ = dir_.path() + "/out";
        fs::create_directory(out_);
        fs::permissions(out_, fs::perms::all);
        state_ = dir_.path() + "/state";
        json config{{"ociVersion", "1.0.2"},
                    {"root", {{"path", "rootfs"}, {"readonly", true}}},
                    {"process",
                     {{"args", process_args},
                      {"env", {"PATH=/usr/bin:/bin"}},
                      {"cwd", "/"},
                      {"user", {{"uid", 65534}, {"gid", 65534}}}}},
                    {"hostname", "oci-test"},
                    {"mounts",
                     {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
                      {{"destination", "/usr"}, {"type", "bind"}, {"source", "/usr"}, {"options", {"rbind", "ro"}}},
                      {{"destination", "/out"}, {"type", "bind"}, {"source", out_}, {"options", {"rbind", "rw"}}}}},
                    {"linux",
                     {{"namespaces",
                       {{{"type", "pid"}}, {{"type", "mount"}}, {{"type", "ipc"}}, {{"type", "uts"}},
                        {{"type", "user"}}, {{"type", "cgroup"}}, {{"type", "network"}}}}}}};
        config.merge_patch(extra);
        std::ofstream(bundle_ + "/config.json") << config.dump(2);
    }
    const std::string& path() const { return bundle_; }
    const std::string& out() const { return out_; }
    const std::string& state_root() const { return state_; }
    const std::string& dir() const { return dir_.path(); }

private:
    TempDir dir_;
    std::string bundle_, out_, state_;
};

// Starts argv with `in`, `out` and `err` as its stdin, stdout and stderr; its pid (-1 when
// fork failed).
pid_t spawn_with_stdio(const std::vector<std::string>& args, int in, int out, int err) {
    std::fflush(nullptr);
    const pid_t p = ::fork();
    if (p == 0) {
        ::dup2(in, 0);
        ::dup2(out, 1);
        ::dup2(err, 2);
        std::vector<char*> argv;
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    return p;
}

// spawn_with_stdio, waited for: its exit status (128 when a signal ended it, -1 when it
// could not be started or waited for).
int run_with_stdio(const std::vector<std::string>& args, int in, int out, int err) {
    const pid_t p = spawn_with_stdio(args, in, out, err);
    int status = 0;
    if (p < 0 || ::waitpid(p, &status, 0) != p) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

ProcessResult runc(const Bundle& b, const std::vector<std::string>& args) {
    std::vector<std::string> argv{runc_bin(), "--root", b.state_root()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv);
}

// Whether the runtime with `args` fails (exit 1) with `words` in its error.
::testing::AssertionResult refuses(const Bundle& b, const std::vector<std::string>& args, const std::string& words) {
    const ProcessResult r = runc(b, args);
    if (r.exit_code == 1 && r.err.find(words) != std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "exit " << r.exit_code << ", wanted 1 with \"" << words << "\": " << r.err;
}

// The runtime with `args` through a shell whose redirections give the container its
// stdout and stderr as files: a captured pipe would stay open for as long as the
// container lives (create, run --detach).
ProcessResult detaching(const Bundle& b, const std::vector<std::string>& args) {
    const std::string log = b.dir() + "/create.err";
    auto quoted = [](const std::string& s) { return "'" + s + "'"; };
    std::string line = quoted(runc_bin()) + " --root " + quoted(b.state_root());
    for (const std::string& a : args) line += " " + quoted(a);
    ProcessResult r = run_process(
        {"/bin/sh", "-c", line + " >" + quoted(b.dir() + "/stdout") + " 2>" + quoted(log) + " </dev/null"});
    r.err = slurp(log);
    return r;
}

ProcessResult create(const Bundle& b, const std::string& id, const std::string& pid_file) {
    return detaching(b, {"create", "--bundle", b.path(), "--pid-file", pid_file, id});
}

// A JSON file a hook wrote, or an empty object (missing or not JSON: the test's
// expectations then fail by name).
json read_json(const std::string& path) {
    json j = json::parse(slurp(path), nullptr, false);
    return j.is_object() ? j : json::object();
}

json state(const Bundle& b, const std::string& id) {
    ProcessResult r = runc(b, {"state", id});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? json::parse(r.out) : json::object();
}

// Polls until the container's status is `want` (the monitor reaps asynchronously).
bool wait_status(const Bundle& b, const std::string& id, const std::string& want, int seconds = 20) {
    for (int i = 0; i < seconds * 10; ++i) {
        if (state(b, id).value("status", "") == want) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
}

// Why this host cannot run the test, or nullptr.
const char* no_runc() { return runc_bin().empty() ? "AJ_RUNC_BIN is not set (run through ctest)" : nullptr; }

const char* no_sandbox() {
    if (const char* why = no_runc()) return why;
    // An ordinary user has no cgroup of its own to delegate on this kind of host, and a
    // container refuses limits no cgroup can hold as totals (no rlimit-only fallback).
    return running_as_root() ? nullptr : "containers need cgroup limits that only root can create on this host";
}

TEST(OciRunc, CreateStartStateKillDelete) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    Bundle b(json{"/bin/sh", "-c", "echo hello; hostname > /out/hostname; exec sleep 60"});
    const std::string pid_file = b.dir() + "/pid";
    ProcessResult c = create(b, "c1", pid_file);
    ASSERT_EQ(c.exit_code, 0) << c.err;

    json s = state(b, "c1");
    EXPECT_EQ(s.value("status", ""), "created") << s.dump();
    EXPECT_EQ(s.value("id", ""), "c1");
    EXPECT_EQ(s.value("bundle", ""), b.path());
    EXPECT_EQ(s.value("ociVersion", ""), "1.0.2");
    const int pid = s.value("pid", 0);
    EXPECT_GT(pid, 0);
    // The pid file names the monitor (the engine reaps it: PidFileNamesWhatTheEngineReaps),
    // state's pid the sandbox's PID 1, in the container's namespaces.
    const std::string monitor = slurp(pid_file);
    EXPECT_FALSE(monitor.empty());
    EXPECT_NE(monitor, std::to_string(pid));
    EXPECT_EQ(::kill(std::stoi(monitor.empty() ? "0" : monitor), 0), 0);
    EXPECT_NE(fs::read_symlink("/proc/" + std::to_string(pid) + "/ns/pid"), fs::read_symlink("/proc/self/ns/pid"));
    // Created: the process has not run.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(slurp(b.dir() + "/stdout"), "");
    EXPECT_FALSE(fs::exists(b.out() + "/hostname"));

    ProcessResult st = runc(b, {"start", "c1"});
    ASSERT_EQ(st.exit_code, 0) << st.err;
    EXPECT_EQ(state(b, "c1").value("status", ""), "running");
    for (int i = 0; i < 200 && slurp(b.out() + "/hostname").empty(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_EQ(slurp(b.out() + "/hostname"), "oci-test\n");
    EXPECT_EQ(slurp(b.dir() + "/stdout"), "hello\n");

    ProcessResult again = runc(b, {"start", "c1"});
    EXPECT_EQ(again.exit_code, 1);
    EXPECT_NE(again.err.find("cannot start an already running container"), std::string::npos) << again.err;
    ProcessResult busy = runc(b, {"delete", "c1"});
    EXPECT_EQ(busy.exit_code, 1);
    EXPECT_NE(busy.err.find("cannot delete container c1 that is not stopped: running"), std::string::npos) << busy.err;
    // A boolean flag set false, as Go's flag package reads it, is off; a value it cannot
    // read is refused.
    ProcessResult not_forced = runc(b, {"delete", "--force=false", "c1"});
    EXPECT_NE(not_forced.err.find("that is not stopped: running"), std::string::npos) << not_forced.err;
    ProcessResult bad_bool = runc(b, {"delete", "--force=maybe", "c1"});
    EXPECT_NE(bad_bool.err.find("invalid boolean value \"maybe\" for -force"), std::string::npos) << bad_bool.err;

    ProcessResult k = runc(b, {"kill", "c1", "SIGTERM"});
    EXPECT_EQ(k.exit_code, 0) << k.err;
    EXPECT_TRUE(wait_status(b, "c1", "stopped"));
    EXPECT_EQ(state(b, "c1").value("pid", -1), 0);
    EXPECT_NE(::kill(pid, 0), 0) << "the sandbox's PID 1 outlived its container";

    ProcessResult k2 = runc(b, {"kill", "c1", "9"});
    EXPECT_EQ(k2.exit_code, 1);
    EXPECT_NE(k2.err.find("container not running"), std::string::npos) << k2.err;

    ProcessResult d = runc(b, {"delete", "c1"});
    EXPECT_EQ(d.exit_code, 0) << d.err;
    ProcessResult gone = runc(b, {"state", "c1"});
    EXPECT_EQ(gone.exit_code, 1);
    EXPECT_NE(gone.err.find("container does not exist"), std::string::npos) << gone.err;
    EXPECT_FALSE(fs::exists(b.state_root() + "/c1"));
}

// The root monitor captures the bundle's trees before the clone (oci/bundle_capture.hpp):
// the sandbox's leased host uid, which cannot walk a 0700 directory, never opens them.
TEST(OciRunc, BundleInAPrivateDirectoryRuns) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    Bundle b(json{"/bin/sh", "-c", "cat /etc/greeting > /out/greeting"}, json::object(), /*walkable=*/false);
    ASSERT_EQ(fs::status(b.dir()).permissions() & fs::perms::others_exec, fs::perms::none);
    ProcessResult c = create(b, "private", b.dir() + "/pid");
    ASSERT_EQ(c.exit_code, 0) << c.err;
    ProcessResult st = runc(b, {"start", "private"});
    ASSERT_EQ(st.exit_code, 0) << st.err;
    EXPECT_TRUE(wait_status(b, "private", "stopped"));
    EXPECT_EQ(slurp(b.out() + "/greeting"), "from the rootfs\n") << slurp(b.dir() + "/create.err");
    EXPECT_EQ(runc(b, {"delete", "private"}).exit_code, 0);
}

// Runs a container to its end and deletes it; false (with the log) when it did not run.
::testing::AssertionResult run_to_end(const Bundle& b, const std::string& id) {
    ProcessResult c = create(b, id, b.dir() + "/pid-" + id);
    if (c.exit_code != 0) return ::testing::AssertionFailure() << "create: " << c.err;
    ProcessResult st = runc(b, {"start", id});
    if (st.exit_code != 0) return ::testing::AssertionFailure() << "start: " << st.err;
    if (!wait_status(b, id, "stopped")) return ::testing::AssertionFailure() << "did not stop";
    if (runc(b, {"delete", id}).exit_code != 0) return ::testing::AssertionFailure() << "delete failed";
    return ::testing::AssertionSuccess();
}

// The owner of a host file as "uid:gid", or "" when it does not exist.
std::string owner_of(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return "";
    return std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid);
}

// A container running as uid 0 in a rootfs the host's root owns, in a 0700 bundle
// directory: the rootfs itself is the container's root, idmapped with the container's
// maps (oci/rootfs_root.hpp). Container root owns host root's files: it enters a 0700
// directory of the rootfs, and what it writes at / lands in the rootfs, as host root's.
TEST(OciRunc, ThePrivateRootfsIsTheRootIdmappedToTheContainersIds) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    Bundle b(json{"/bin/sh", "-c",
                  "pwd > /out/cwd; cat inside > /out/secret; stat -c %u:%g /etc/greeting > /out/owner; echo made > /x"},
             json{{"root", {{"readonly", false}}},
                  {"process", {{"cwd", "/secret"}, {"user", {{"uid", 0}, {"gid", 0}}}}}},
             /*walkable=*/false);
    const std::string rootfs = b.path() + "/rootfs";
    fs::create_directory(rootfs + "/secret");
    fs::permissions(rootfs + "/secret", fs::perms::owner_all);
    std::ofstream(rootfs + "/secret/inside") << "only root\n";
    ASSERT_EQ(owner_of(rootfs + "/secret"), "0:0");
    ASSERT_TRUE(run_to_end(b, "idmapped")) << slurp(b.dir() + "/create.err");
    const std::string err = slurp(b.dir() + "/create.err");
    if (err.find("refused an idmapped mount") != std::string::npos) GTEST_SKIP() << err;
    EXPECT_EQ(err.find("not idmapped"), std::string::npos) << err;
    EXPECT_EQ(slurp(b.out() + "/cwd"), "/secret\n") << err;
    EXPECT_EQ(slurp(b.out() + "/secret"), "only root\n") << err;
    EXPECT_EQ(slurp(b.out() + "/owner"), "0:0\n") << err;
    EXPECT_EQ(slurp(rootfs + "/x"), "made\n") << err;
    EXPECT_EQ(owner_of(rootfs + "/x"), "0:0");
}

// The guard: a rootfs every host user can walk to is not idmapped (a set-uid file the
// container made there would be host root's and theirs to run). Its files keep their host
// owners: host root's show as nobody inside and stay unwritable, and create says why.
TEST(OciRunc, ARootfsOtherUsersCanReachIsNotIdmapped) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    Bundle b(json{"/bin/sh", "-c", "stat -c %u:%g /etc/greeting > /out/owner; echo made > /x; echo $? > /out/rc"},
             json{{"root", {{"readonly", false}}}, {"process", {{"user", {{"uid", 0}, {"gid", 0}}}}}},
             /*walkable=*/true);
    for (fs::path dir = b.path() + "/rootfs";; dir = dir.parent_path()) {
        struct stat st {};
        ASSERT_EQ(::stat(dir.c_str(), &st), 0) << dir;
        if (!(st.st_mode & S_IXOTH))
            GTEST_SKIP() << dir << " is closed to other users ($TMPDIR): no rootfs below it is reachable";
        if (dir == dir.parent_path()) break;
    }
    ASSERT_TRUE(run_to_end(b, "reachable")) << slurp(b.dir() + "/create.err");
    const std::string err = slurp(b.dir() + "/create.err");
    EXPECT_NE(err.find("not idmapped: every directory from / to " + b.path() + "/rootfs lets other users search it"),
              std::string::npos)
        << err;
    EXPECT_EQ(slurp(b.out() + "/owner"), "65534:65534\n") << err;
    EXPECT_NE(slurp(b.out() + "/rc"), "0\n");
    EXPECT_FALSE(fs::exists(b.path() + "/rootfs/x"));
}

// A hook the host runs is a program of the rootfs: idmapped, container root could rewrite
// it and have the host run its code as the caller. Such a rootfs keeps its host owners.
TEST(OciRunc, ARootfsHoldingAHooksProgramIsNotIdmapped) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    Bundle b(json{"/bin/sh", "-c", "stat -c %u:%g /hook.sh > /out/owner; echo changed >> /hook.sh; echo $? > /out/rc"},
             json{{"root", {{"readonly", false}}}, {"process", {{"user", {{"uid", 0}, {"gid", 0}}}}}},
             /*walkable=*/false);
    const std::string rootfs = b.path() + "/rootfs";
    {
        std::ofstream(rootfs + "/hook.sh") << "#!/bin/sh\nexit 0\n";
    }
    fs::permissions(rootfs + "/hook.sh", fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read);
    // The poststop hook is the rootfs's own script, named through a link outside it.
    fs::create_symlink(rootfs + "/hook.sh", b.dir() + "/hook-link");
    json config = json::parse(slurp(b.path() + "/config.json"));
    config["hooks"] = {{"poststop", json::array({json{{"path", b.dir() + "/hook-link"}}})}};
    std::ofstream(b.path() + "/config.json") << config.dump();
    ASSERT_TRUE(run_to_end(b, "hooked")) << slurp(b.dir() + "/create.err");
    const std::string err = slurp(b.dir() + "/create.err");
    EXPECT_NE(err.find("not idmapped: hook " + b.dir() + "/hook-link is a program of the rootfs"), std::string::npos)
        << err;
    EXPECT_EQ(slurp(b.out() + "/owner"), "65534:65534\n") << err;
    EXPECT_NE(slurp(b.out() + "/rc"), "0\n");
    EXPECT_EQ(slurp(rootfs + "/hook.sh"), "#!/bin/sh\nexit 0\n");
}

// root.readonly: the container's root refuses writes, container root's included.
TEST(OciRunc, AReadOnlyRootRefusesWrites) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    Bundle b(json{"/bin/sh", "-c", "{ echo made > /x; } 2> /out/err; echo $? > /out/rc; echo ok > /tmp/t && cat /tmp/t > /out/tmp"},
             json{{"process", {{"user", {{"uid", 0}, {"gid", 0}}}}}}, /*walkable=*/false);
    ASSERT_TRUE(run_to_end(b, "readonly")) << slurp(b.dir() + "/create.err");
    EXPECT_NE(slurp(b.out() + "/rc"), "0\n");
    EXPECT_NE(slurp(b.out() + "/err").find("Read-only file system"), std::string::npos) << slurp(b.out() + "/err");
    EXPECT_FALSE(fs::exists(b.path() + "/rootfs/x"));
    EXPECT_EQ(slurp(b.out() + "/tmp"), "ok\n");  // the sandbox's own /tmp stays writable
}

// On a systemd host / is shared: the rootfs and the binds captured from there must not
// join the host's peer groups (pivot_root(2) refuses a shared new root: every container
// failed its setup with EINVAL, seen first in the vm.systemd guest). Shared here inside a
// mount namespace of the test's own.
TEST(OciRunc, ABundleOnASharedMountRuns) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    Bundle b(json{"/bin/sh", "-c", "echo ran > /out/ran"});
    const std::string line = "mount --make-rshared / && exec '" + runc_bin() + "' --root '" + b.state_root() +
                             "' run --bundle '" + b.path() + "' shared";
    ProcessResult r = run_process({"/usr/bin/unshare", "--mount", "--propagation", "unchanged", "/bin/sh", "-c", line});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err.find("pivot_root"), std::string::npos) << r.err;
    EXPECT_EQ(slurp(b.out() + "/ran"), "ran\n");
}

// The config's mounts go on top of one another in the config's order, as runc mounts
// them: a bind listed after a tmpfs lands inside it, a tmpfs listed after a bind at the
// same path hides it.
TEST(OciRunc, MountsAreMountedInTheConfigsOrder) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    for (const bool walkable : {false, true}) {
        Bundle b(json{"/bin/sh", "-c", "ls /mnt/t/in > /out/in; ls -A /mnt/b > /out/hidden; ls /mnt/t > /out/t"},
                 json::object(), walkable);
        const std::string in = b.dir() + "/in", hidden = b.dir() + "/hidden";
        fs::create_directories(in);
        std::ofstream(in + "/marker") << "";
        fs::create_directories(hidden);
        std::ofstream(hidden + "/under") << "";
        json config = json::parse(slurp(b.path() + "/config.json"));
        config["mounts"].push_back({{"destination", "/mnt/t"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
        config["mounts"].push_back(
            {{"destination", "/mnt/t/in"}, {"type", "bind"}, {"source", in}, {"options", {"rbind", "ro"}}});
        config["mounts"].push_back(
            {{"destination", "/mnt/b"}, {"type", "bind"}, {"source", hidden}, {"options", {"rbind", "ro"}}});
        config["mounts"].push_back({{"destination", "/mnt/b"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
        std::ofstream(b.path() + "/config.json") << config.dump(2);
        ASSERT_TRUE(run_to_end(b, walkable ? "order-walkable" : "order")) << slurp(b.dir() + "/create.err");
        const std::string err = slurp(b.dir() + "/create.err");
        EXPECT_EQ(slurp(b.out() + "/in"), "marker\n") << err;
        EXPECT_EQ(slurp(b.out() + "/t"), "in\n") << err;
        EXPECT_EQ(slurp(b.out() + "/hidden"), "") << err;
        EXPECT_TRUE(fs::exists(b.out() + "/hidden")) << err;
    }
}

// A mount's uid=/gid= options name ids of the container's user namespace (devpts's
// gid=5, a tmpfs's owner): kept when it maps them (a root caller's block of ids),
// dropped with a warning when it does not (an ordinary caller's maps the process's only).
TEST(OciRunc, MountIdOptionsNameTheContainersIds) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    Bundle b(json{"/bin/sh", "-c", "stat -c '%u %g' /mnt/o > /out/owner"});
    json config = json::parse(slurp(b.path() + "/config.json"));
    config["mounts"].push_back({{"destination", "/mnt/o"},
                                {"type", "tmpfs"},
                                {"source", "tmpfs"},
                                {"options", {"uid=7", "gid=8", "mode=0750"}}});
    std::ofstream(b.path() + "/config.json") << config.dump(2);
    ASSERT_TRUE(run_to_end(b, "idopts")) << slurp(b.dir() + "/create.err");
    const std::string err = slurp(b.dir() + "/create.err");
    if (running_as_root()) {
        EXPECT_EQ(slurp(b.out() + "/owner"), "7 8\n") << err;
        EXPECT_EQ(err.find("dropped"), std::string::npos) << err;
    } else {
        EXPECT_EQ(slurp(b.out() + "/owner"), "65534 65534\n") << err;
        EXPECT_NE(err.find("mounts /mnt/o: option uid=7 dropped"), std::string::npos) << err;
    }
}

// runtime-tools' default mounts, then the test bundle's binds.
json listed_mounts(const std::string& out) {
    json mounts = runtime_tools_default_mounts();
    mounts.push_back({{"destination", "/usr"}, {"type", "bind"}, {"source", "/usr"}, {"options", {"rbind", "ro"}}});
    mounts.push_back({{"destination", "/out"}, {"type", "bind"}, {"source", out}, {"options", {"rbind", "rw"}}});
    mounts.push_back({{"destination", "/dev/termination-log"}, {"type", "bind"}, {"source", "/etc/hostname"},
                      {"options", {"rbind", "ro"}}});
    mounts.push_back(
        {{"destination", "/nx"}, {"type", "bind"}, {"source", "/usr/bin"}, {"options", {"rbind", "ro", "noexec"}}});
    return mounts;
}

// The config's file systems are mounted as it lists them: type, source label, place and
// order, as runtime-tools' runtimetest reads them back from /proc/self/mountinfo.
TEST(OciRunc, FileSystemsAreMountedInTheConfigsOrder) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    TempDir out_dir;
    fs::permissions(out_dir.path(), fs::perms::all);
    Bundle b(json{"/bin/sh", "-c",
                  "cat /proc/self/mountinfo > /out/mountinfo; ls -l /dev/ptmx > /out/ptmx; "
                  "cat /proc/self/oom_score_adj > /out/oom; "
                  "cat /proc/version 2>/dev/null | wc -c > /out/masked; "
                  "(echo 1 > /proc/sys/kernel/shm_rmid_forced) 2> /out/readonly; ls /sys/firmware | wc -l > /out/fw; "
                  "cat /proc/sys/net/ipv4/ip_forward > /out/sysctl; /nx/true; echo $? > /out/nx; "
                  "cat /dev/termination-log > /out/tl"},
             json{{"mounts", listed_mounts(out_dir.path())},
                  {"process", {{"oomScoreAdj", 500}}},
                  {"linux",
                   {{"maskedPaths", {"/proc/version", "/sys/firmware", "/proc/no-such-file"}},
                    {"readonlyPaths", {"/proc/sys"}},
                    {"sysctl", {{"net.ipv4.ip_forward", "1"}}}}}});
    ProcessResult c = create(b, "mounts", b.dir() + "/pid");
    ASSERT_EQ(c.exit_code, 0) << c.err;
    ASSERT_EQ(runc(b, {"start", "mounts"}).exit_code, 0);
    EXPECT_TRUE(wait_status(b, "mounts", "stopped"));
    EXPECT_EQ(runc(b, {"delete", "mounts"}).exit_code, 0);
    const std::string info = slurp(out_dir.path() + "/mountinfo");
    // "mountpoint fstype source", in mountinfo's order.
    std::vector<std::string> seen;
    std::istringstream lines(info);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream f(line);
        std::vector<std::string> fields;
        for (std::string w; f >> w;) fields.push_back(w);
        const auto dash = std::find(fields.begin(), fields.end(), "-");
        if (fields.size() < 5 || dash == fields.end() || dash + 2 >= fields.end()) continue;
        seen.push_back(fields[4] + " " + *(dash + 1) + " " + *(dash + 2));
    }
    const std::vector<std::string> want = {"/proc proc proc",          "/dev tmpfs tmpfs",
                                           "/dev/pts devpts devpts",   "/dev/shm tmpfs shm",
                                           "/dev/mqueue mqueue mqueue", "/sys sysfs sysfs"};
    std::size_t next = 0;
    for (const auto& s : seen)
        if (next < want.size() && s == want[next]) ++next;
    EXPECT_EQ(next, want.size()) << "found in order only up to " << (next < want.size() ? want[next] : "") << "\n"
                                 << info;
    EXPECT_NE(slurp(out_dir.path() + "/ptmx").find("/dev/ptmx -> pts/ptmx"), std::string::npos)
        << slurp(out_dir.path() + "/ptmx");
    // process.oomScoreAdj, set on PID 1 before the process forks from it.
    EXPECT_EQ(slurp(out_dir.path() + "/oom"), "500\n");
    // linux.maskedPaths: empty (a missing path is skipped); readonlyPaths: writes refused.
    EXPECT_EQ(slurp(out_dir.path() + "/masked"), "0\n");
    EXPECT_EQ(slurp(out_dir.path() + "/fw"), "0\n");
    // A bind into the listed /dev tmpfs, mounted after it.
    EXPECT_EQ(slurp(out_dir.path() + "/tl"), slurp("/etc/hostname"));
    // A bind's noexec.
    EXPECT_EQ(slurp(out_dir.path() + "/nx"), "126\n");
    // linux.sysctl, in the container's own network namespace.
    EXPECT_EQ(slurp(out_dir.path() + "/sysctl"), "1\n");
    EXPECT_NE(slurp(out_dir.path() + "/readonly").find("Read-only file system"), std::string::npos)
        << slurp(out_dir.path() + "/readonly");
}

// A config bind into a rootfs directory where its mount point is missing (podman's
// /etc/hostname): the root monitor creates it in the rootfs, as runc does.
TEST(OciRunc, MissingMountPointsInTheRootfsAreCreated) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    TempDir out_dir;
    fs::permissions(out_dir.path(), fs::perms::all);
    json mounts = json::array(
        {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
         {{"destination", "/usr"}, {"type", "bind"}, {"source", "/usr"}, {"options", {"rbind", "ro"}}},
         {{"destination", "/out"}, {"type", "bind"}, {"source", out_dir.path()}, {"options", {"rbind", "rw"}}},
         {{"destination", "/etc/hostname"}, {"type", "bind"}, {"source", "/etc/hostname"}, {"options", {"rbind", "ro"}}},
         {{"destination", "/etc/deep/bin"}, {"type", "bind"}, {"source", "/usr/bin"}, {"options", {"rbind", "ro"}}}});
    Bundle b(json{"/bin/sh", "-c", "cat /etc/hostname > /out/hostname; ls /etc/deep/bin/sh > /out/deep"},
             json{{"mounts", mounts}});
    ProcessResult c = create(b, "mp", b.dir() + "/pid");
    ASSERT_EQ(c.exit_code, 0) << c.err;
    ASSERT_EQ(runc(b, {"start", "mp"}).exit_code, 0);
    EXPECT_TRUE(wait_status(b, "mp", "stopped"));
    EXPECT_EQ(runc(b, {"delete", "mp"}).exit_code, 0);
    EXPECT_EQ(slurp(out_dir.path() + "/hostname"), slurp("/etc/hostname"));
    EXPECT_EQ(slurp(out_dir.path() + "/deep"), "/etc/deep/bin/sh\n");
    EXPECT_TRUE(fs::is_regular_file(b.path() + "/rootfs/etc/hostname"));
    EXPECT_TRUE(fs::is_directory(b.path() + "/rootfs/etc/deep/bin"));
}

// PID 1 forwards every catchable signal to the process, as runc's kill delivers it.
TEST(OciRunc, KillDeliversUsr1ToTheProcess) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    Bundle b(json{"/bin/sh", "-c", "trap 'echo got > /out/usr1; exit 3' USR1; echo ready > /out/ready; "
                                   "while :; do sleep 0.1; done"});
    ProcessResult c = create(b, "sig", b.dir() + "/pid");
    ASSERT_EQ(c.exit_code, 0) << c.err;
    ASSERT_EQ(runc(b, {"start", "sig"}).exit_code, 0);
    for (int i = 0; i < 200 && slurp(b.out() + "/ready").empty(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ProcessResult k = runc(b, {"kill", "sig", "USR1"});
    EXPECT_EQ(k.exit_code, 0) << k.err;
    EXPECT_TRUE(wait_status(b, "sig", "stopped"));
    EXPECT_EQ(slurp(b.out() + "/usr1"), "got\n");
    EXPECT_EQ(runc(b, {"delete", "--force", "sig"}).exit_code, 0);
}

TEST(OciRunc, CreatedContainerEndsWithKillAndForcedDelete) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    Bundle b(json{"/bin/sh", "-c", "echo ran > /out/ran"});
    ASSERT_EQ(create(b, "c2", b.dir() + "/pid").exit_code, 0);
    const int pid = state(b, "c2").value("pid", 0);
    ASSERT_GT(pid, 0);
    ProcessResult exists = create(b, "c2", b.dir() + "/pid2");
    EXPECT_EQ(exists.exit_code, 1);
    EXPECT_NE(exists.err.find("container with given ID already exists"), std::string::npos) << exists.err;

    ProcessResult d = runc(b, {"delete", "--force", "c2"});
    EXPECT_EQ(d.exit_code, 0) << d.err;
    EXPECT_NE(::kill(pid, 0), 0);
    EXPECT_FALSE(fs::exists(b.out() + "/ran")) << "a deleted created container ran its process";
    EXPECT_FALSE(fs::exists(b.state_root() + "/c2"));
}

// The container's processes: PID 1's children on the host, oldest first is the command.
std::string process_state(pid_t pid) {
    const std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
    const std::size_t close = stat.rfind(')');
    return close == std::string::npos || close + 2 >= stat.size() ? "" : stat.substr(close + 2, 1);
}

pid_t first_child(pid_t pid1) {
    std::istringstream in(slurp("/proc/" + std::to_string(pid1) + "/task/" + std::to_string(pid1) + "/children"));
    long n = 0;
    return in >> n ? static_cast<pid_t>(n) : 0;
}

bool wait_file(const std::string& path, int seconds = 20) {
    for (int i = 0; i < seconds * 10; ++i) {
        if (!slurp(path).empty()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
}

// run in the foreground: the container's stdio is the caller's, run exits with the
// process's status, and nothing of the container is left.
TEST(OciRunc, RunGivesTheCallersStdioAndExitsWithTheProcessStatus) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    Bundle b(json{"/bin/sh", "-c", "echo hi; exit 3"});
    ProcessResult r = runc(b, {"run", "--bundle", b.path(), "fg"});
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_EQ(r.out, "hi\n");
    EXPECT_FALSE(fs::exists(b.state_root() + "/fg")) << "run left the container's state";
    // --keep leaves the stopped container for state and delete.
    ProcessResult kept = runc(b, {"run", "--keep", "--bundle", b.path(), "kept"});
    EXPECT_EQ(kept.exit_code, 3) << kept.err;
    EXPECT_EQ(state(b, "kept").value("status", ""), "stopped");
    EXPECT_EQ(runc(b, {"delete", "kept"}).exit_code, 0);
}

std::string status_field(const std::string& status, const std::string& name);  // below

// The wait status of a foreground `run` (pid `run`, container `id`), or nothing when it
// did not end within 20 s: the container is then deleted and run killed and reaped.
std::optional<int> wait_run(pid_t run, const Bundle& b, const std::string& id) {
    int status = 0;
    for (int i = 0; i < 200; ++i) {
        if (::waitpid(run, &status, WNOHANG) == run) return status;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    (void)runc(b, {"delete", "--force", id});
    ::kill(run, SIGKILL);
    ::waitpid(run, &status, 0);
    return std::nullopt;
}


// A signal to run in the foreground reaches the container's process (a SIGTERM ends a
// sleep: 128+15), never run alone, which would leave the container behind.
TEST(OciRunc, RunPassesSignalsOnToTheProcess) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    Bundle b(json{"/bin/sh", "-c", "echo ready > /out/ready; exec sleep 100"});
    const sys::UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
    ASSERT_TRUE(null);
    const std::string pid_file = b.dir() + "/pid";
    const pid_t run = spawn_with_stdio(
        {runc_bin(), "--root", b.state_root(), "run", "--pid-file", pid_file, "--bundle", b.path(), "sig"},
        null.get(), null.get(), null.get());
    ASSERT_GT(run, 0);
    ASSERT_TRUE(wait_file(b.out() + "/ready"));
    const pid_t pid1 = state(b, "sig").value("pid", 0);
    EXPECT_GT(pid1, 0);
    // What run blocks to pass on is its own: the monitor (the pid file's) blocks no more
    // than the launch's four while it runs the container (SIGUSR1 is not among them).
    const std::string blocked = status_field(slurp("/proc/" + slurp(pid_file) + "/status"), "SigBlk");
    ASSERT_NE(blocked, "(missing)");
    EXPECT_EQ(std::stoull(blocked, nullptr, 16) & (1ULL << (SIGUSR1 - 1)), 0U) << "the monitor's SigBlk: " << blocked;
    ASSERT_EQ(::kill(run, SIGTERM), 0);
    const std::optional<int> ended = wait_run(run, b, "sig");
    ASSERT_TRUE(ended) << "run did not end after SIGTERM: the signal did not reach the container's process";
    const int status = *ended;
    ASSERT_TRUE(WIFEXITED(status)) << "run was killed by signal " << WTERMSIG(status) << " instead of passing it on";
    EXPECT_EQ(WEXITSTATUS(status), 143);
    EXPECT_NE(::kill(pid1, 0), 0) << "the sandbox's PID 1 outlived run";
    EXPECT_FALSE(fs::exists(b.state_root() + "/sig"));
    if (fs::exists(b.state_root() + "/sig")) (void)runc(b, {"delete", "--force", "sig"});
}

TEST(OciRunc, RunDetachedLeavesTheContainerRunning) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    Bundle b(json{"/bin/sh", "-c", "echo started > /out/started; exec sleep 100"});
    ProcessResult r = detaching(b, {"run", "-d", "--bundle", b.path(), "bg"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(state(b, "bg").value("status", ""), "running");
    EXPECT_TRUE(wait_file(b.out() + "/started"));
    EXPECT_EQ(runc(b, {"kill", "bg", "KILL"}).exit_code, 0);
    EXPECT_TRUE(wait_status(b, "bg", "stopped"));
    EXPECT_EQ(runc(b, {"delete", "bg"}).exit_code, 0);
    EXPECT_FALSE(fs::exists(b.state_root() + "/bg"));
}

// A bundle that cannot be created, or a process that cannot start, leaves no state.
TEST(OciRunc, RunThatFailsLeavesNothing) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    Bundle b(json{"/no/such/program"});
    fs::create_directories(b.dir() + "/empty");
    ProcessResult no_config = runc(b, {"run", "--bundle", b.dir() + "/empty", "bad"});
    EXPECT_EQ(no_config.exit_code, 1);
    EXPECT_NE(no_config.err.find("config.json"), std::string::npos) << no_config.err;
    EXPECT_FALSE(fs::exists(b.state_root() + "/bad"));
    ProcessResult missing = runc(b, {"run", "--bundle", b.path(), "missing"});
    EXPECT_EQ(missing.exit_code, 127) << missing.err;
    EXPECT_NE(missing.err.find("/no/such/program: not found"), std::string::npos) << missing.err;
    EXPECT_FALSE(fs::exists(b.state_root() + "/missing"));
}

// list: runc's columns and JSON, each container's status, and -q's ids.
TEST(OciRunc, ListShowsEachContainersStatus) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    Bundle b(json{"/bin/sh", "-c", "exec sleep 100"});
    ASSERT_EQ(create(b, "one", b.dir() + "/pid").exit_code, 0);
    ProcessResult r = detaching(b, {"run", "--detach", "--bundle", b.path(), "two"});
    ASSERT_EQ(r.exit_code, 0) << r.err;

    ProcessResult table = runc(b, {"list"});
    EXPECT_EQ(table.exit_code, 0) << table.err;
    std::istringstream lines(table.out);
    std::vector<std::vector<std::string>> rows;
    for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        rows.emplace_back(std::istream_iterator<std::string>(words), std::istream_iterator<std::string>());
    }
    const std::string pid_one = std::to_string(state(b, "one").value("pid", 0));
    const std::string pid_two = std::to_string(state(b, "two").value("pid", 0));
    ASSERT_EQ(rows.size(), 3U) << table.out;
    EXPECT_EQ(rows[0], (std::vector<std::string>{"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}));
    ASSERT_EQ(rows[1].size(), 6U) << table.out;
    ASSERT_EQ(rows[2].size(), 6U) << table.out;
    EXPECT_EQ((std::vector<std::string>(rows[1].begin(), rows[1].begin() + 4)),
              (std::vector<std::string>{"one", pid_one, "created", b.path()}));
    EXPECT_EQ((std::vector<std::string>(rows[2].begin(), rows[2].begin() + 4)),
              (std::vector<std::string>{"two", pid_two, "running", b.path()}));
    EXPECT_EQ(rows[1][5], running_as_root() ? "root" : ::getpwuid(::getuid())->pw_name);
    // The columns line up: each cell starts where the header's does.
    EXPECT_EQ(table.out.find("STATUS"), std::string(table.out, table.out.find('\n') + 1).find("created"));

    ProcessResult listed = runc(b, {"list", "--format", "json"});
    EXPECT_EQ(listed.exit_code, 0) << listed.err;
    const json list = json::parse(listed.out, nullptr, false);
    ASSERT_TRUE(list.is_array()) << listed.out;
    ASSERT_EQ(list.size(), 2U) << listed.out;
    EXPECT_EQ(list[0].value("id", ""), "one");
    EXPECT_EQ(list[0].value("status", ""), "created");
    EXPECT_EQ(list[1].value("id", ""), "two");
    EXPECT_EQ(list[1].value("status", ""), "running");
    EXPECT_EQ(list[1].value("pid", 0), std::stoi(pid_two));
    EXPECT_EQ(list[1].value("bundle", ""), b.path());
    EXPECT_EQ(list[1].value("rootfs", ""), b.path() + "/rootfs");
    EXPECT_EQ(list[1].value("ociVersion", ""), "1.0.2");
    EXPECT_EQ(list[1].value("owner", ""), rows[2][5]);
    EXPECT_FALSE(list[1].value("created", "").empty());

    ProcessResult quiet = runc(b, {"list", "-q"});
    EXPECT_EQ(quiet.out, "one\ntwo\n") << quiet.err;

    EXPECT_EQ(runc(b, {"delete", "--force", "one"}).exit_code, 0);
    EXPECT_EQ(runc(b, {"delete", "--force", "two"}).exit_code, 0);
    EXPECT_EQ(runc(b, {"list", "-q"}).out, "");
}

// An empty or missing root, as runc lists it: the header alone, or JSON null; a missing
// root is not made.
TEST(OciRunc, ListOfNoContainers) {
    if (const char* why = no_runc()) GTEST_SKIP() << why;
    TempDir dir;
    const std::string missing = dir.path() + "/no-root";
    ProcessResult table = run_process({runc_bin(), "--root", missing, "list"});
    EXPECT_EQ(table.exit_code, 0) << table.err;
    EXPECT_EQ(table.out, "ID          PID         STATUS      BUNDLE      CREATED     OWNER\n");
    ProcessResult as_json = run_process({runc_bin(), "--root", missing, "list", "--format=json"});
    EXPECT_EQ(as_json.out, "null\n") << as_json.err;
    EXPECT_FALSE(fs::exists(missing));
    ProcessResult bad = run_process({runc_bin(), "--root", missing, "list", "--format", "yaml"});
    EXPECT_EQ(bad.exit_code, 1);
    EXPECT_NE(bad.err.find("invalid format option"), std::string::npos) << bad.err;
}

// SIGSTOP and SIGCONT reach the user's process, not PID 1; kill --all reaches every
// process of the container (a child the shell does not pass the signal on to).
TEST(OciRunc, StopContAndKillAllReachTheContainersProcesses) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    Bundle b(json{"/bin/sh", "-c",
                  "trap 'echo got >> /out/got' USR1; sleep 1000 & echo ready > /out/ready; "
                  "while :; do sleep 0.1; done"});
    ASSERT_EQ(create(b, "all", b.dir() + "/pid").exit_code, 0);
    const pid_t pid1 = state(b, "all").value("pid", 0);
    ASSERT_EQ(runc(b, {"start", "all"}).exit_code, 0);
    ASSERT_TRUE(wait_file(b.out() + "/ready"));
    const pid_t command = first_child(pid1);
    ASSERT_GT(command, 0);
    // The shell's background `sleep 1000`, which keeps USR1's default action (death).
    auto background = [&]() -> pid_t {
        std::istringstream in(slurp("/proc/" + std::to_string(command) + "/task/" + std::to_string(command) + "/children"));
        for (long n = 0; in >> n;)
            if (slurp("/proc/" + std::to_string(n) + "/cmdline") == std::string("sleep\0" "1000\0", 11)) return n;
        return 0;
    };
    // `echo ready` may run before the forked child has exec'd sleep (a loaded host).
    pid_t sleeper = background();
    for (int i = 0; i < 250 && sleeper == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        sleeper = background();
    }
    ASSERT_GT(sleeper, 0);

    ProcessResult stop = runc(b, {"kill", "all", "STOP"});
    EXPECT_EQ(stop.exit_code, 0) << stop.err;
    for (int i = 0; i < 50 && process_state(command) != "T"; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(process_state(command), "T") << "SIGSTOP did not stop the user's process";
    EXPECT_NE(process_state(pid1), "T") << "SIGSTOP stopped the sandbox's PID 1";
    EXPECT_EQ(runc(b, {"kill", "all", "CONT"}).exit_code, 0);
    for (int i = 0; i < 50 && process_state(command) == "T"; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_NE(process_state(command), "T") << "SIGCONT did not resume the user's process";

    // USR1 without --all goes to the shell alone (its trap runs): the sleep lives on.
    EXPECT_EQ(runc(b, {"kill", "all", "USR1"}).exit_code, 0);
    ASSERT_TRUE(wait_file(b.out() + "/got"));
    EXPECT_EQ(background(), sleeper);
    ProcessResult all = runc(b, {"kill", "--all", "all", "USR1"});
    EXPECT_EQ(all.exit_code, 0) << all.err;
    for (int i = 0; i < 100 && background() != 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(background(), 0) << "kill --all did not reach the background process";
    EXPECT_EQ(state(b, "all").value("status", ""), "running");
    EXPECT_EQ(runc(b, {"kill", "--all", "all", "KILL"}).exit_code, 0);
    EXPECT_TRUE(wait_status(b, "all", "stopped"));
    EXPECT_EQ(runc(b, {"delete", "all"}).exit_code, 0);
}

// conmon and containerd's shim are child subreapers: they reap the process the pid file
// names once create has exited, and take its exit status as the container's.
TEST(OciRunc, PidFileNamesWhatTheEngineReaps) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    Bundle b(json{"/bin/sh", "-c", "exit 3"});
    const std::string pid_file = b.dir() + "/pid";
    std::fflush(nullptr);
    const pid_t engine = ::fork();
    ASSERT_GE(engine, 0);
    if (engine == 0) {
        // The engine: a subreaper running create, then start, then reaping the pid file's
        // process. Exits with that process's status (or 100+ for a step that failed).
        ::prctl(PR_SET_CHILD_SUBREAPER, 1);
        const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        auto run = [null](const std::vector<std::string>& args) { return run_with_stdio(args, null, null, null); };
        if (run({runc_bin(), "--root", b.state_root(), "create", "--bundle", b.path(), "--pid-file", pid_file, "reap"}) != 0)
            ::_exit(101);
        const pid_t container = static_cast<pid_t>(std::strtol(slurp(pid_file).c_str(), nullptr, 10));
        if (container <= 0) ::_exit(102);
        if (run({runc_bin(), "--root", b.state_root(), "start", "reap"}) != 0) ::_exit(103);
        int status = 0;
        if (::waitpid(container, &status, 0) != container) ::_exit(104);
        ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 105);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(engine, &status, 0), engine);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 3) << "101 create, 102 pid file, 103 start failed, 104 not reapable";
    EXPECT_TRUE(wait_status(b, "reap", "stopped"));
    EXPECT_EQ(runc(b, {"delete", "reap"}).exit_code, 0);
}

// This process's cgroup as one absolute path that lies at or below it in every hierarchy
// (the test may create cgroups only there), or nullopt.
std::optional<std::string> own_cgroup_base() {
    std::string base = "/";
    const auto hierarchies = helper::discover_cgroup_hierarchies();
    for (const auto& h : hierarchies)
        if (h.own_path.size() > base.size()) base = h.own_path;
    for (const auto& h : hierarchies) {
        const std::string own = h.own_path.empty() ? "/" : h.own_path;
        if (own != "/" && base != own && !base.starts_with(own + "/")) return std::nullopt;
    }
    while (base.size() > 1 && base.back() == '/') base.pop_back();
    return base == "/" ? "" : base;
}

std::string mount_of(const std::string& controller) {
    for (const auto& h : helper::discover_cgroup_hierarchies())
        if (h.version == helper::CgroupVersion::V1 && h.controllers.contains(controller)) return h.mount_point;
    return "";
}

// This process's own cgroup directory in the v1 hierarchy carrying `controller`.
std::string own_dir_of(const std::string& controller) {
    for (const auto& h : helper::discover_cgroup_hierarchies())
        if (h.version == helper::CgroupVersion::V1 && h.controllers.contains(controller)) return h.own_dir;
    return "";
}

// The directories of `below` (absolute) that are missing under `root`, made on construction
// and removed, deepest first, on destruction.
class MadeDirs {
public:
    MadeDirs(const std::string& root, const std::string& below) {
        std::string path = root;
        std::istringstream parts(below);
        for (std::string part; std::getline(parts, part, '/');) {
            if (part.empty()) continue;
            path += "/" + part;
            if (fs::create_directory(path)) made_.push_back(path);
        }
    }
    ~MadeDirs() {
        for (auto it = made_.rbegin(); it != made_.rend(); ++it) ::rmdir(it->c_str());
    }
    MadeDirs(const MadeDirs&) = delete;
    MadeDirs& operator=(const MadeDirs&) = delete;

private:
    std::vector<std::string> made_;
};

// linux.cgroupsPath: the container's cgroup is where the engine says, holds the config's
// resources, and delete removes what create made of it (and nothing that existed before).
TEST(OciRunc, CgroupsPathHoldsTheResourcesAndDeleteRemovesWhatCreateMade) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    const std::optional<std::string> base = own_cgroup_base();
    if (!base) GTEST_SKIP() << "this process's cgroups are not one path in every hierarchy";
    const std::string pids = mount_of("pids"), cpu = mount_of("cpu"), cpuset = mount_of("cpuset"),
                      memory = mount_of("memory");
    if (pids.empty() || cpu.empty() || cpuset.empty() || memory.empty())
        GTEST_SKIP() << "needs v1 pids, cpu, cpuset and memory hierarchies (this host's kind)";
    const std::string top = "aj-oci-cg-" + std::to_string(::getpid());
    const std::string path = *base + "/" + top + "/ctr";
    // An existing parent in the pids hierarchy: delete must leave it. This process's own
    // cgroup may be the root there, so the directories down to it may be missing: the test
    // makes them (and only removes what it made).
    const std::string kept = pids + *base + "/" + top;
    std::optional<MadeDirs> kept_dirs(std::in_place, pids, *base + "/" + top);
    Bundle b(json{"/bin/sh", "-c", "echo ran > /out/ran"},
             json{{"linux",
                   {{"cgroupsPath", path},
                    {"resources",
                     {{"pids", {{"limit", 123}}},
                      {"memory", {{"limit", 256 << 20}, {"reservation", 128 << 20}, {"swap", 512 << 20}}},
                      {"cpu", {{"shares", 512}, {"quota", 20000}, {"period", 100000}, {"cpus", "0"}, {"mems", "0"}}}}}}}});
    ProcessResult c = create(b, "cg", b.dir() + "/pid");
    ASSERT_EQ(c.exit_code, 0) << c.err;
    EXPECT_EQ(slurp(pids + path + "/pids.max"), "123\n");
    EXPECT_EQ(slurp(memory + path + "/memory.limit_in_bytes"), std::to_string(256 << 20) + "\n");
    EXPECT_EQ(slurp(memory + path + "/memory.soft_limit_in_bytes"), std::to_string(128 << 20) + "\n");
    // memory+swap where the host accounts swap (else a warning at create).
    if (fs::exists(memory + "/memory.memsw.limit_in_bytes"))
        EXPECT_EQ(slurp(memory + path + "/memory.memsw.limit_in_bytes"), std::to_string(512 << 20) + "\n");
    else
        EXPECT_NE(c.err.find("memory.memsw.limit_in_bytes does not exist here"), std::string::npos) << c.err;
    EXPECT_EQ(slurp(cpu + path + "/cpu.shares"), "512\n");
    EXPECT_EQ(slurp(cpu + path + "/cpu.cfs_quota_us"), "20000\n");
    EXPECT_EQ(slurp(cpuset + path + "/cpuset.cpus"), "0\n");
    // The sandbox's PID 1 lives in it (or below: the policy's own cgroup).
    const int pid1 = state(b, "cg").value("pid", 0);
    const std::string cgroups = slurp("/proc/" + std::to_string(pid1) + "/cgroup");
    EXPECT_NE(cgroups.find(":pids:" + path + "/"), std::string::npos) << cgroups;
    EXPECT_NE(cgroups.find(":cpu:" + path + "\n"), std::string::npos) << cgroups;
    ASSERT_EQ(runc(b, {"start", "cg"}).exit_code, 0);
    EXPECT_TRUE(wait_status(b, "cg", "stopped"));
    EXPECT_EQ(slurp(b.out() + "/ran"), "ran\n");
    ProcessResult d = runc(b, {"delete", "cg"});
    EXPECT_EQ(d.exit_code, 0) << d.err;
    EXPECT_FALSE(fs::exists(pids + path));
    EXPECT_FALSE(fs::exists(cpu + path));
    EXPECT_FALSE(fs::exists(cpu + *base + "/" + top)) << "a parent create made was left";
    EXPECT_TRUE(fs::exists(kept)) << "delete removed a cgroup create did not make";
    kept_dirs.reset();

    // Relative: below this process's own cgroup; ".." refused before anything is made.
    Bundle rel(json{"/bin/true"},
               json{{"linux", {{"cgroupsPath", top + "/rel"}, {"resources", {{"pids", {{"limit", 77}}}}}}}});
    ASSERT_EQ(create(rel, "rel", rel.dir() + "/pid").exit_code, 0);
    EXPECT_EQ(slurp(own_dir_of("pids") + "/" + top + "/rel/pids.max"), "77\n");
    EXPECT_EQ(runc(rel, {"delete", "--force", "rel"}).exit_code, 0);
    EXPECT_FALSE(fs::exists(own_dir_of("pids") + "/" + top));
    Bundle up(json{"/bin/true"}, json{{"linux", {{"cgroupsPath", top + "/../../x"}}}});
    ProcessResult refused = create(up, "up", up.dir() + "/pid");
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_NE(refused.err.find("\"..\" is not allowed"), std::string::npos) << refused.err;
}

// pause and resume: the container's freezer (oci/container_freezer.hpp).
// A loop in the container counting into /out/NAME, one step every 10 ms.
std::string counting_loop(const std::string& name) {
    return "i=0; while :; do i=$((i+1)); echo $i > /out/" + name + ".new; mv /out/" + name + ".new /out/" + name +
           "; sleep 0.01; done";
}

// Whether /out's counter `path` moves within `seconds`.
bool counter_advances(const std::string& path, int seconds = 10) {
    const std::string before = slurp(path);
    for (int i = 0; i < seconds * 50; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        const std::string now = slurp(path);
        if (!now.empty() && now != before) return true;
    }
    return false;
}

// delete --force at the end of a test, however it ends: a failed assertion never leaves a
// (paused) container and its cgroups behind.
class DeletedAtEnd {
public:
    DeletedAtEnd(const Bundle& b, std::string id) : b_(b), id_(std::move(id)) {}
    ~DeletedAtEnd() { (void)runc(b_, {"delete", "--force", id_}); }
    DeletedAtEnd(const DeletedAtEnd&) = delete;
    DeletedAtEnd& operator=(const DeletedAtEnd&) = delete;

private:
    const Bundle& b_;
    std::string id_;
};

// The container's own cgroups as create recorded them (leaves), from its state directory.
std::vector<std::string> recorded_cgroups(const Bundle& b, const std::string& id) {
    const json record = read_json(b.state_root() + "/" + id + "/cgroup.json");
    return record.contains("leaves") ? record["leaves"].get<std::vector<std::string>>() : std::vector<std::string>{};
}

// Every process of a paused container stops, an exec'd one too, until resume; state says
// "paused" meanwhile and exec is refused; pause and resume in the wrong state get runc's
// words; kill ends a paused container for real.
TEST(OciRunc, PauseFreezesEveryProcessUntilResumeAndKillEndsAPausedContainer) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    Bundle b(json{"/bin/sh", "-c", counting_loop("count")});
    ASSERT_EQ(create(b, "pz", b.dir() + "/pid").exit_code, 0);
    const DeletedAtEnd cleanup(b, "pz");
    EXPECT_TRUE(refuses(b, {"pause", "pz"}, "container not running"));
    EXPECT_TRUE(refuses(b, {"resume", "pz"}, "container not paused"));
    ASSERT_EQ(runc(b, {"start", "pz"}).exit_code, 0);
    ASSERT_TRUE(wait_file(b.out() + "/count"));
    // A process exec added (left running in the background) is the container's too.
    const std::string process = b.dir() + "/process.json";
    std::ofstream(process) << json{{"args", {"/bin/sh", "-c", "(" + counting_loop("exec") + ") </dev/null >/dev/null 2>&1 &"}},
                                   {"env", {"PATH=/usr/bin:/bin"}},
                                   {"cwd", "/"},
                                   {"user", {{"uid", 65534}, {"gid", 65534}}}}
                                  .dump();
    ProcessResult ex = runc(b, {"exec", "--process", process, "pz"});
    ASSERT_EQ(ex.exit_code, 0) << ex.err;
    ASSERT_TRUE(wait_file(b.out() + "/exec"));
    EXPECT_TRUE(counter_advances(b.out() + "/count"));

    ProcessResult p = runc(b, {"pause", "pz"});
    ASSERT_EQ(p.exit_code, 0) << p.err;
    EXPECT_EQ(state(b, "pz").value("status", ""), "paused");
    const std::string count = slurp(b.out() + "/count"), exec_count = slurp(b.out() + "/exec");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(slurp(b.out() + "/count"), count) << "the container's process ran while paused";
    EXPECT_EQ(slurp(b.out() + "/exec"), exec_count) << "the exec'd process ran while paused";
    EXPECT_TRUE(refuses(b, {"pause", "pz"}, "container not running"));
    EXPECT_TRUE(refuses(b, {"exec", "--process", process, "pz"}, "cannot exec in a paused container"));
    ProcessResult busy = runc(b, {"delete", "pz"});
    EXPECT_NE(busy.err.find("that is not stopped: paused"), std::string::npos) << busy.err;

    ProcessResult r = runc(b, {"resume", "pz"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(state(b, "pz").value("status", ""), "running");
    EXPECT_TRUE(counter_advances(b.out() + "/count")) << "resume did not thaw the container's process";
    EXPECT_TRUE(counter_advances(b.out() + "/exec")) << "resume did not thaw the exec'd process";
    EXPECT_TRUE(refuses(b, {"resume", "pz"}, "container not paused"));

    // Killed while paused: it ends (a frozen task takes SIGKILL only once thawed on v1).
    ASSERT_EQ(runc(b, {"pause", "pz"}).exit_code, 0);
    const pid_t pid1 = state(b, "pz").value("pid", 0);
    ProcessResult k = runc(b, {"kill", "pz", "KILL"});
    EXPECT_EQ(k.exit_code, 0) << k.err;
    EXPECT_TRUE(wait_status(b, "pz", "stopped", 10));
    EXPECT_NE(::kill(pid1, 0), 0) << "the paused container's PID 1 outlived kill";
    EXPECT_TRUE(refuses(b, {"pause", "pz"}, "container not running"));
    const std::vector<std::string> cgroups = recorded_cgroups(b, "pz");
    EXPECT_FALSE(cgroups.empty()) << "create made the container no cgroup to freeze";
    EXPECT_EQ(runc(b, {"delete", "pz"}).exit_code, 0);
    for (const std::string& dir : cgroups) EXPECT_FALSE(fs::exists(dir)) << dir;
}

// A container create could give no freezer (no freezer hierarchy, no permission beneath
// our cgroup: its record says why) is never "paused" some other way: pause fails naming
// the reason, and the container runs on untouched.
TEST(OciRunc, PauseWithoutAFreezerFailsNamingWhyAndStopsNothing) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    Bundle b(json{"/bin/sh", "-c", counting_loop("count")});
    ASSERT_EQ(create(b, "nf", b.dir() + "/pid").exit_code, 0);
    const DeletedAtEnd cleanup(b, "nf");
    ASSERT_EQ(runc(b, {"start", "nf"}).exit_code, 0);
    ASSERT_TRUE(wait_file(b.out() + "/count"));
    // The record as create writes it when it could make no freezer; the real one is put
    // back before delete, which removes what it names.
    const std::string record = b.state_root() + "/nf/cgroup.json";
    const std::string made = slurp(record);
    std::ofstream(record) << json{{"leaves", json::array()}, {"created", json::array()},
                                  {"no_freezer", "the test's reason"}}
                                 .dump();
    ProcessResult p = runc(b, {"pause", "nf"});
    EXPECT_EQ(p.exit_code, 1);
    EXPECT_NE(p.err.find("cannot pause container nf: no cgroup freezer: the test's reason"), std::string::npos) << p.err;
    EXPECT_EQ(state(b, "nf").value("status", ""), "running");
    EXPECT_TRUE(counter_advances(b.out() + "/count")) << "a pause that failed stopped the container";
    const pid_t command = first_child(state(b, "nf").value("pid", 0));
    EXPECT_NE(process_state(command), "T") << "pause stopped the process with a signal";
    std::ofstream(record) << made;
}

// delete --force of a paused container ends it and leaves none of its cgroups; with
// linux.cgroupsPath the freezer is the path's own directory in the freezer hierarchy.
TEST(OciRunc, ForcedDeleteOfAPausedContainerLeavesNoCgroup) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    const std::string freezer = own_dir_of("freezer");
    if (freezer.empty()) GTEST_SKIP() << "needs a v1 freezer hierarchy (this host's kind)";
    const std::string path = "aj-oci-pause-" + std::to_string(::getpid());
    for (const bool with_path : {false, true}) {
        SCOPED_TRACE(with_path ? "linux.cgroupsPath" : "the freezer's own cgroup");
        Bundle b(json{"/bin/sh", "-c", counting_loop("count")},
                 with_path ? json{{"linux", {{"cgroupsPath", path}}}} : json::object());
        ASSERT_EQ(create(b, "pzf", b.dir() + "/pid").exit_code, 0);
        const DeletedAtEnd cleanup(b, "pzf");
        ASSERT_EQ(runc(b, {"start", "pzf"}).exit_code, 0);
        ASSERT_TRUE(wait_file(b.out() + "/count"));
        const pid_t pid1 = state(b, "pzf").value("pid", 0);
        ASSERT_EQ(runc(b, {"pause", "pzf"}).exit_code, 0);
        const std::vector<std::string> cgroups = recorded_cgroups(b, "pzf");
        ASSERT_FALSE(cgroups.empty());
        if (with_path) {
            EXPECT_EQ(slurp(freezer + "/" + path + "/freezer.state"), "FROZEN\n");
        } else {
            ASSERT_EQ(cgroups.size(), 1U);
            EXPECT_EQ(slurp(cgroups[0] + "/freezer.state"), "FROZEN\n");
        }
        ProcessResult d = runc(b, {"delete", "--force", "pzf"});
        EXPECT_EQ(d.exit_code, 0) << d.err;
        EXPECT_NE(::kill(pid1, 0), 0) << "the paused container's PID 1 outlived delete --force";
        for (const std::string& dir : cgroups) EXPECT_FALSE(fs::exists(dir)) << dir;
        EXPECT_FALSE(fs::exists(b.state_root() + "/pzf"));
    }
}

// The sandbox's own cgroup (the launch library's, below the container's) in the v1
// hierarchy of `controller`, from PID 1's /proc/PID/cgroup ("N:pids:/path").
std::string sandbox_dir_of(int pid1, const std::string& controller) {
    std::istringstream lines(slurp("/proc/" + std::to_string(pid1) + "/cgroup"));
    for (std::string line; std::getline(lines, line);) {
        const std::size_t first = line.find(':'), second = line.find(':', first + 1);
        if (first == std::string::npos || second == std::string::npos) continue;
        std::istringstream names(line.substr(first + 1, second - first - 1));
        for (std::string name; std::getline(names, name, ',');)
            if (name == controller) return mount_of(controller) + line.substr(second + 1);
    }
    return "";
}

// update: new limits reach the container's cgroup and the sandbox's own below it, from
// --resources - (containerd's shim, CRI-O), --resources FILE (podman) and runc's flags,
// and the process inside lives under them: its forks fail past the new pids limit.
TEST(OciRunc, UpdateSetsTheContainersCgroupAndTheSandboxsLimits) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    const std::optional<std::string> base = own_cgroup_base();
    if (!base) GTEST_SKIP() << "this process's cgroups are not one path in every hierarchy";
    const std::string pids = mount_of("pids"), memory = mount_of("memory");
    if (pids.empty() || memory.empty()) GTEST_SKIP() << "needs v1 pids and memory hierarchies (this host's kind)";
    const std::string path = *base + "/aj-oci-update-" + std::to_string(::getpid()) + "/ctr";
    // Forks sleepers once told to, until the pids limit refuses one (the shell then ends).
    Bundle b(json{"/bin/sh", "-c",
                  "while [ ! -e /out/go ]; do sleep 0.1; done; n=0; "
                  "while [ $n -lt 200 ]; do sleep 60 & n=$((n+1)); echo $n > /out/forked; done"},
             json{{"linux",
                   {{"cgroupsPath", path},
                    {"resources", {{"pids", {{"limit", 100}}}, {"memory", {{"limit", 256 << 20}}}}}}}});
    ProcessResult c = create(b, "upd", b.dir() + "/pid");
    ASSERT_EQ(c.exit_code, 0) << c.err;
    ASSERT_EQ(runc(b, {"start", "upd"}).exit_code, 0);
    const int pid1 = state(b, "upd").value("pid", 0);
    const std::string sandbox_pids = sandbox_dir_of(pid1, "pids"), sandbox_memory = sandbox_dir_of(pid1, "memory");
    ASSERT_NE(sandbox_pids.find(pids + path + "/aurora-jail-"), std::string::npos) << sandbox_pids;
    ASSERT_NE(sandbox_memory.find(memory + path + "/aurora-jail-"), std::string::npos) << sandbox_memory;
    EXPECT_EQ(slurp(sandbox_pids + "/pids.max"), "100\n");

    ProcessResult u = run_process({runc_bin(), "--root", b.state_root(), "update", "--resources", "-", "upd"},
                                  json{{"pids", {{"limit", 40}}}, {"memory", {{"limit", 64 << 20}}}}.dump());
    ASSERT_EQ(u.exit_code, 0) << u.err;
    for (const std::string& dir : {pids + path, sandbox_pids}) EXPECT_EQ(slurp(dir + "/pids.max"), "40\n") << dir;
    for (const std::string& dir : {memory + path, sandbox_memory})
        EXPECT_EQ(slurp(dir + "/memory.limit_in_bytes"), std::to_string(64 << 20) + "\n") << dir;

    std::ofstream(b.dir() + "/resources.json") << json{{"pids", {{"limit", 35}}}}.dump();
    u = runc(b, {"update", "--resources", b.dir() + "/resources.json", "upd"});
    ASSERT_EQ(u.exit_code, 0) << u.err;
    EXPECT_EQ(slurp(sandbox_pids + "/pids.max"), "35\n");

    // Raised above the sandbox's memory+swap cap (64 MiB): that cap is raised first.
    u = runc(b, {"update", "--pids-limit", "30", "--memory", "96m", "upd"});
    ASSERT_EQ(u.exit_code, 0) << u.err;
    for (const std::string& dir : {pids + path, sandbox_pids}) EXPECT_EQ(slurp(dir + "/pids.max"), "30\n") << dir;
    for (const std::string& dir : {memory + path, sandbox_memory})
        EXPECT_EQ(slurp(dir + "/memory.limit_in_bytes"), std::to_string(96 << 20) + "\n") << dir;
    if (fs::exists(sandbox_memory + "/memory.memsw.limit_in_bytes")) {
        EXPECT_EQ(slurp(sandbox_memory + "/memory.memsw.limit_in_bytes"), std::to_string(96 << 20) + "\n");
    }

    // A write the kernel refuses (a memory limit below what the container uses) fails the
    // update, naming what was applied before it; what it does not name was not applied
    // (the hierarchies' order decides whether cpu.shares came first).
    if (const std::string cpu = mount_of("cpu"); !cpu.empty()) {
        const std::string shares_before = slurp(cpu + path + "/cpu.shares");
        u = run_process({runc_bin(), "--root", b.state_root(), "update", "-r", "-", "upd"},
                        json{{"cpu", {{"shares", 256}}}, {"memory", {{"limit", 1}}}}.dump());
        EXPECT_EQ(u.exit_code, 1);
        EXPECT_NE(u.err.find("memory.limit_in_bytes = 1: EBUSY"), std::string::npos) << u.err;
        const std::size_t listed = u.err.find("; applied before it: ");
        ASSERT_NE(listed, std::string::npos) << u.err;
        const bool shares_applied = u.err.find(cpu + path + "/cpu.shares = 256", listed) != std::string::npos;
        EXPECT_EQ(slurp(cpu + path + "/cpu.shares"), shares_applied ? "256\n" : shares_before) << u.err;
        EXPECT_NE(u.err.find(shares_applied ? "; nothing after it was applied" : "applied before it: nothing; "),
                  std::string::npos)
            << u.err;
        EXPECT_EQ(slurp(memory + path + "/memory.limit_in_bytes"), std::to_string(96 << 20) + "\n");
    }

    std::ofstream(b.out() + "/go") << "";
    EXPECT_TRUE(wait_status(b, "upd", "stopped", 60));
    // PID 1 and the shell count too: fewer than 30 sleepers, where 100 would have fit.
    const long forked = std::strtol(slurp(b.out() + "/forked").c_str(), nullptr, 10);
    EXPECT_GE(forked, 20);
    EXPECT_LT(forked, 30);
    EXPECT_EQ(runc(b, {"delete", "--force", "upd"}).exit_code, 0);
    EXPECT_FALSE(fs::exists(pids + path));
}

// A named policy's limits are a ceiling no update raises (the sandbox's own cgroup keeps
// them, with a warning); lower values apply. Without linux.cgroupsPath only memory and
// pids exist to change. Bad values name the field; nothing is half-applied silently.
TEST(OciRunc, UpdateNeverRaisesTheSandboxAboveItsPolicy) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    const std::string pids = mount_of("pids"), memory = mount_of("memory");
    if (pids.empty() || memory.empty()) GTEST_SKIP() << "needs v1 pids and memory hierarchies (this host's kind)";
    Bundle b(json{"/bin/sh", "-c", "while :; do sleep 1; done"},
             json{{"annotations", {{"io.aurora-jail.policy", "capped"}}},
                  {"linux", {{"resources", {{"pids", {{"limit", 20}}}}}}}});
    const std::string policies = b.dir() + "/policies";
    fs::create_directory(policies);
    std::ofstream(policies + "/capped.json") << json{{"max_pids", 50}, {"max_memory_mb", 128}}.dump();
    // Its stdio as files: a captured pipe would stay open for as long as the container lives.
    ProcessResult c = run_process({"/bin/sh", "-c",
                                   "AURORA_JAIL_POLICY_DIR='" + policies + "' '" + runc_bin() + "' --root '" +
                                       b.state_root() + "' create --bundle '" + b.path() + "' capped </dev/null >'" +
                                       b.dir() + "/stdout' 2>'" + b.dir() + "/create.err'"});
    ASSERT_EQ(c.exit_code, 0) << slurp(b.dir() + "/create.err");
    const int pid1 = state(b, "capped").value("pid", 0);
    const std::string sandbox_pids = sandbox_dir_of(pid1, "pids"), sandbox_memory = sandbox_dir_of(pid1, "memory");
    EXPECT_EQ(slurp(sandbox_pids + "/pids.max"), "20\n");
    EXPECT_EQ(slurp(sandbox_memory + "/memory.limit_in_bytes"), std::to_string(128 << 20) + "\n");
    // A created container takes an update too (its sandbox exists, waiting for start).
    ProcessResult u = runc(b, {"update", "--pids-limit", "25", "capped"});
    EXPECT_EQ(u.exit_code, 0) << u.err;
    EXPECT_EQ(slurp(sandbox_pids + "/pids.max"), "25\n");
    ASSERT_EQ(runc(b, {"start", "capped"}).exit_code, 0);

    u = runc(b, {"update", "--pids-limit", "1000", "--memory", "1g", "--cpu-shares", "512", "capped"});
    EXPECT_EQ(u.exit_code, 0) << u.err;
    EXPECT_EQ(slurp(sandbox_pids + "/pids.max"), "50\n");
    EXPECT_EQ(slurp(sandbox_memory + "/memory.limit_in_bytes"), std::to_string(128 << 20) + "\n");
    EXPECT_NE(u.err.find("linux.resources.pids.limit: 1000 is above the ceiling of the container's aurora-jail "
                         "policy, which applies (50)"),
              std::string::npos)
        << u.err;
    EXPECT_NE(u.err.find("linux.resources.cpu: not applied without linux.cgroupsPath"), std::string::npos) << u.err;
    u = runc(b, {"update", "--pids-limit", "10", "--memory", "64m", "capped"});
    EXPECT_EQ(u.exit_code, 0) << u.err;
    EXPECT_EQ(slurp(sandbox_pids + "/pids.max"), "10\n");
    EXPECT_EQ(slurp(sandbox_memory + "/memory.limit_in_bytes"), std::to_string(64 << 20) + "\n");
    // Recorded for exec (which derives a new process's limits from it) and the next update.
    const json recorded = read_json(b.state_root() + "/capped/restrictions.json");
    EXPECT_EQ(recorded.value("policy", json::object()).value("max_pids", 0), 10) << recorded.dump();
    EXPECT_EQ(recorded.value("policy", json::object()).value("max_memory_mb", 0), 64) << recorded.dump();
    // Back up to the ceiling, not beyond: the record kept it.
    u = runc(b, {"update", "--pids-limit", "60", "capped"});
    EXPECT_EQ(u.exit_code, 0) << u.err;
    EXPECT_EQ(slurp(sandbox_pids + "/pids.max"), "50\n");

    for (const auto& [input, want] : std::vector<std::pair<std::string, std::string>>{
             {R"({"pids":{"limit":"9"}})", "linux.resources.pids.limit: must be an integer"},
             {R"({"pid":{"limit":9}})", "linux.resources.pid: not a runtime-spec resource"},
             {R"({"memory":{"limit":1,"bogus":2}})", "linux.resources.memory.bogus"},
             {R"({"pids":)", "--resources: not valid JSON"}}) {
        u = run_process({runc_bin(), "--root", b.state_root(), "update", "-r", "-", "capped"}, input);
        EXPECT_EQ(u.exit_code, 1) << input;
        EXPECT_NE(u.err.find(want), std::string::npos) << input << ": " << u.err;
    }
    EXPECT_EQ(slurp(sandbox_pids + "/pids.max"), "50\n") << "a refused update wrote something";
    u = runc(b, {"update", "--memory", "12q", "capped"});
    EXPECT_NE(u.err.find("invalid value \"12q\" for flag --memory"), std::string::npos) << u.err;
    u = runc(b, {"update", "--pids-limit", "5", "nothere"});
    EXPECT_NE(u.err.find("container does not exist"), std::string::npos) << u.err;

    ASSERT_EQ(runc(b, {"kill", "capped", "KILL"}).exit_code, 0);
    EXPECT_TRUE(wait_status(b, "capped", "stopped"));
    u = runc(b, {"update", "--pids-limit", "5", "capped"});
    EXPECT_EQ(u.exit_code, 1);
    EXPECT_NE(u.err.find("container not running"), std::string::npos) << u.err;
    EXPECT_EQ(runc(b, {"delete", "capped"}).exit_code, 0);
}

// A tracer process (ptrace) running `argv`: the first child `argv` forks is traced
// syscall by syscall and held, stopped, at its first pidfd_open(2) once `hold_after`
// exists, until release(). Every other process they start is let go at once.
class HeldChild {
public:
    HeldChild(const std::vector<std::string>& argv, const std::string& log, std::string hold_after)
        : hold_after_(std::move(hold_after)) {
        if (::pipe2(report_, O_CLOEXEC) != 0 || ::pipe2(release_, O_CLOEXEC) != 0)
            throw std::runtime_error("pipe2 failed");
        tracer_ = ::fork();
        if (tracer_ < 0) throw std::runtime_error("fork failed");
        if (tracer_ == 0) ::_exit(trace(argv, log));
        ::close(report_[1]);
        ::close(release_[0]);
    }
    ~HeldChild() {
        release();
        ::close(report_[0]);
        ::waitpid(tracer_, nullptr, 0);
    }
    HeldChild(const HeldChild&) = delete;
    HeldChild& operator=(const HeldChild&) = delete;

    // `argv`'s wait status, once it exited.
    int wait_exit() {
        int status = -1;
        if (::read(report_[0], &status, sizeof status) != sizeof status) return -1;
        return status;
    }
    void release() {
        if (release_[1] < 0) return;
        ::close(release_[1]);
        release_[1] = -1;
    }

private:
    static pid_t parent_of(pid_t pid) {
        // "PID (COMM) STATE PPID ...", COMM possibly holding spaces and parentheses.
        const std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
        const auto paren = stat.rfind(')');
        if (paren == std::string::npos) return -1;
        std::istringstream fields(stat.substr(paren + 1));
        char state = 0;
        pid_t ppid = -1;
        fields >> state >> ppid;
        return fields ? ppid : -1;
    }
    // Restarts a stopped tracee, delivering `sig` (0: none); ptrace takes it as its data.
    static void resume(__ptrace_request how, pid_t pid, int sig) { ::ptrace(how, pid, nullptr, static_cast<long>(sig)); }
    // The tracer: only ever _exits.
    int trace(const std::vector<std::string>& argv, const std::string& log) {
        ::close(report_[0]);
        ::close(release_[1]);
        const pid_t top = ::fork();
        if (top < 0) return 1;
        if (top == 0) {
            const int in = ::open("/dev/null", O_RDONLY);
            const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (in < 0 || out < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0) ::_exit(126);
            if (::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0 || ::raise(SIGSTOP) != 0) ::_exit(126);
            std::vector<char*> args;
            for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
            args.push_back(nullptr);
            ::execv(args[0], args.data());
            ::_exit(127);
        }
        int status = 0;
        if (::waitpid(top, &status, 0) != top || !WIFSTOPPED(status)) return 1;
        ::ptrace(PTRACE_SETOPTIONS, top, nullptr, PTRACE_O_TRACEFORK | PTRACE_O_TRACESYSGOOD);
        ::ptrace(PTRACE_CONT, top, nullptr, nullptr);
        pid_t child = -1;
        bool held = false, released = false, top_done = false, child_done = false;
        ::fcntl(release_[0], F_SETFL, O_NONBLOCK);
        while (!top_done || !child_done) {
            char byte = 0;
            if (!released && ::read(release_[0], &byte, 1) == 0) released = true;
            if (released && held) {
                ::ptrace(PTRACE_DETACH, child, nullptr, nullptr);
                held = false;
                child_done = true;
            }
            const pid_t pid = ::waitpid(-1, &status, __WALL | WNOHANG);
            if (pid == 0) {
                ::usleep(1000);
                continue;
            }
            if (pid < 0) break;
            if (WIFEXITED(status) || WIFSIGNALED(status)) {
                if (pid == top) {
                    top_done = true;
                    if (child < 0) child_done = true;
                    (void)!::write(report_[1], &status, sizeof status);
                }
                if (pid == child) child_done = true;
                continue;
            }
            const int sig = WSTOPSIG(status);
            const int event = status >> 16;
            // The child's first stop may come before its parent's fork event.
            if (child < 0 && pid != top && parent_of(pid) == top) child = pid;
            if (pid == top) {
                if (event == PTRACE_EVENT_FORK) {
                    unsigned long forked = 0;
                    ::ptrace(PTRACE_GETEVENTMSG, top, nullptr, &forked);
                    if (child < 0) child = static_cast<pid_t>(forked);
                    // The child is attached: `argv` itself goes on untraced (LeakSanitizer,
                    // in a sanitizer build, refuses to check a traced process at its exit).
                    ::ptrace(PTRACE_DETACH, top, nullptr, nullptr);
                    continue;
                }
                const bool pass = event == 0 && sig != SIGTRAP && sig != SIGSTOP;
                resume(PTRACE_CONT, top, pass ? sig : 0);
            } else if (pid == child && !child_done) {
                if (released) {
                    ::ptrace(PTRACE_DETACH, pid, nullptr, nullptr);
                    child_done = true;
                    continue;
                }
                if (sig == (SIGTRAP | 0x80)) {
                    user_regs_struct regs{};
                    ::ptrace(PTRACE_GETREGS, pid, nullptr, &regs);
                    if (regs.orig_rax == SYS_pidfd_open && ::access(hold_after_.c_str(), F_OK) == 0) {
                        held = true;
                        continue;  // stays stopped
                    }
                }
                const bool pass = event == 0 && sig != (SIGTRAP | 0x80) && sig != SIGSTOP && sig != SIGTRAP;
                resume(PTRACE_SYSCALL, pid, pass ? sig : 0);
            } else {
                // A process the traced ones forked (attached with them): not ours to hold.
                ::ptrace(PTRACE_DETACH, pid, nullptr, nullptr);
            }
        }
        return 0;
    }

    std::string hold_after_;
    int report_[2] = {-1, -1};
    int release_[2] = {-1, -1};
    pid_t tracer_ = -1;
};

// Issue 16: `create` then `start` at once, as the runtime-tools validations do, failed
// with "container not running" whenever the monitor was descheduled between telling
// create the container exists and opening its end of the start fifo (the loaded suite's
// PID 1 "SIGKILL" was the validation's cleanup after that failed start). Here the
// monitor is held at that moment, deterministically: stopped by a tracer at its first
// pidfd_open(2) once the container's state is recorded, until `start` has returned.
TEST(OciRunc, StartRightAfterCreateFindsTheContainerWhileItsMonitorIsDelayed) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    Bundle b(json{"/bin/sh", "-c", "echo ran > /out/ran"});
    const std::string id = "prompt";
    int status = -1;
    ProcessResult started{-1, "", ""};
    {
        HeldChild create_process({runc_bin(), "--root", b.state_root(), "create", "--bundle", b.path(), id},
                                 b.dir() + "/create.log", b.state_root() + "/" + id + "/state.json");
        status = create_process.wait_exit();
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) started = runc(b, {"start", id});
    }
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << slurp(b.dir() + "/create.log");
    EXPECT_EQ(started.exit_code, 0) << "start right after create: " << started.err;
    EXPECT_TRUE(wait_status(b, id, "stopped"));
    EXPECT_TRUE(fs::exists(b.out() + "/ran")) << "the started container did not run its process: "
                                              << slurp(b.dir() + "/create.log");
    EXPECT_EQ(runc(b, {"delete", "--force", id}).exit_code, 0);
}

// One line of /proc/self/status as the process saw it ("CapBnd:\t0000...").
std::string status_field(const std::string& status, const std::string& name) {
    std::istringstream lines(status);
    for (std::string line; std::getline(lines, line);)
        if (line.starts_with(name + ":")) {
            std::string value = line.substr(name.size() + 1);
            value.erase(0, value.find_first_not_of(" \t"));
            return value;
        }
    return "(missing)";
}

// process.user uid/gid 0 runs as 0 inside, its files land on the host as the sandbox's own
// host ids (never root), and the config's capability sets and noNewPrivileges read back
// exactly from /proc/self/status, with the seccomp filter installed all the same.
TEST(OciRunc, TheProcessHasTheConfigsIdentityAndCapabilities) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    const json caps = {{"bounding", {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_KILL", "CAP_SYS_ADMIN"}},
                       {"effective", {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_KILL", "CAP_SYS_ADMIN"}},
                       {"permitted", {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_KILL", "CAP_SYS_ADMIN"}},
                       {"inheritable", {"CAP_KILL"}},
                       {"ambient", {"CAP_KILL"}}};
    for (const bool no_new_privs : {false, true}) {
        SCOPED_TRACE(no_new_privs ? "noNewPrivileges true" : "noNewPrivileges false");
        Bundle b(json{"/bin/sh", "-c", "id -u > /out/uid; id -g > /out/gid; cat /proc/self/status > /out/status; "
                                       "umask > /out/umask; echo x > /out/made"},
                 json{{"process",
                       {{"user", {{"uid", 0}, {"gid", 0}, {"umask", 18}}},
                        {"capabilities", caps},
                        {"noNewPrivileges", no_new_privs}}}});
        ASSERT_TRUE(run_to_end(b, "who")) << slurp(b.dir() + "/create.err");
        EXPECT_EQ(slurp(b.out() + "/uid"), "0\n");
        EXPECT_EQ(slurp(b.out() + "/gid"), "0\n");
        EXPECT_EQ(slurp(b.out() + "/umask"), "0022\n");
        const std::string status = slurp(b.out() + "/status");
        // CHOWN (0), DAC_OVERRIDE (1), KILL (5), SYS_ADMIN (21).
        EXPECT_EQ(status_field(status, "CapBnd"), "0000000000200023") << status;
        EXPECT_EQ(status_field(status, "CapEff"), "0000000000200023") << status;
        EXPECT_EQ(status_field(status, "CapPrm"), "0000000000200023") << status;
        EXPECT_EQ(status_field(status, "CapInh"), "0000000000000020") << status;
        EXPECT_EQ(status_field(status, "CapAmb"), "0000000000000020") << status;
        EXPECT_EQ(status_field(status, "NoNewPrivs"), no_new_privs ? "1" : "0") << status;
        EXPECT_EQ(status_field(status, "Seccomp"), "2") << status;
        // uid 0 inside is the sandbox's own host uid outside, never the host's root.
        struct stat st {};
        ASSERT_EQ(::stat((b.out() + "/made").c_str(), &st), 0);
        EXPECT_NE(st.st_uid, 0u);
        EXPECT_NE(st.st_gid, 0u);
    }
}

// A config uid other than 0 and a config without capabilities: the process has none.
TEST(OciRunc, AnOrdinaryConfigUserHasNoCapabilities) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    Bundle b(json{"/bin/sh", "-c", "id -u > /out/uid; id -g > /out/gid; cat /proc/self/status > /out/status"},
             json{{"process", {{"user", {{"uid", 10}, {"gid", 20}}}}}});
    ASSERT_TRUE(run_to_end(b, "plain")) << slurp(b.dir() + "/create.err");
    EXPECT_EQ(slurp(b.out() + "/uid"), "10\n");
    EXPECT_EQ(slurp(b.out() + "/gid"), "20\n");
    const std::string status = slurp(b.out() + "/status");
    for (const char* set : {"CapBnd", "CapEff", "CapPrm", "CapInh", "CapAmb"})
        EXPECT_EQ(status_field(status, set), "0000000000000000") << set << "\n" << status;
    EXPECT_EQ(status_field(status, "NoNewPrivs"), "0") << status;
    EXPECT_EQ(status_field(status, "Seccomp"), "2") << status;
}

// The escape test: uid 0 inside with CAP_SYS_ADMIN, CAP_DAC_OVERRIDE, CAP_FOWNER and
// CAP_CHOWN still cannot write, chmod, chown or mount over a host file or directory that
// host root owns, bound read-write into the container. Any of these succeeds only if the
// user namespace mapped uid 0 to the host's root (capabilities in a user namespace apply
// only to files whose owner and group it maps).
TEST(OciRunc, CapabilitiesInsideGrantNothingOnTheHost) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    TempDir host;
    fs::permissions(host.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                     fs::perms::others_read | fs::perms::others_exec);
    const std::string victim = host.path() + "/victim";
    std::ofstream(victim) << "host root's\n";
    fs::permissions(victim, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                                fs::perms::others_read);
    ASSERT_EQ(::getuid(), 0u);  // no_sandbox: root only; host root owns both
    const json all = {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_SYS_ADMIN", "CAP_MKNOD"};
    Bundle b(json{"/bin/sh", "-c",
                  "(echo pwned > /host/victim) 2> /out/write.err; echo $? > /out/write; chmod 666 /host/victim; echo $? > /out/chmod; "
                  "chown 1:1 /host/victim; echo $? > /out/chown; touch /host/new; echo $? > /out/create; "
                  "mount -t tmpfs none /host; echo $? > /out/mount; mknod /out/null c 1 3; echo $? > /out/mknod"},
             json{{"process",
                   {{"user", {{"uid", 0}, {"gid", 0}}},
                    {"capabilities",
                     {{"bounding", all}, {"effective", all}, {"permitted", all}, {"inheritable", all}, {"ambient", all}}}}},
                  {"mounts",
                   {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
                    {{"destination", "/usr"}, {"type", "bind"}, {"source", "/usr"}, {"options", {"rbind", "ro"}}},
                    {{"destination", "/out"}, {"type", "bind"}, {"source", "OUT"}, {"options", {"rbind", "rw"}}},
                    {{"destination", "/host"}, {"type", "bind"}, {"source", host.path()}, {"options", {"rbind", "rw"}}}}}});
    // The out directory's path is the bundle's own: patch it in.
    json config = json::parse(slurp(b.path() + "/config.json"));
    config["mounts"][2]["source"] = b.out();
    std::ofstream(b.path() + "/config.json") << config.dump(2);
    ASSERT_TRUE(run_to_end(b, "escape")) << slurp(b.dir() + "/create.err");
    EXPECT_EQ(slurp(victim), "host root's\n");
    EXPECT_EQ(fs::status(victim).permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
    EXPECT_FALSE(fs::exists(host.path() + "/new"));
    EXPECT_FALSE(fs::exists(b.out() + "/null"));
    for (const char* what : {"write", "chmod", "chown", "create", "mount", "mknod"})
        EXPECT_NE(slurp(b.out() + "/" + what), "0\n") << what << " succeeded inside";
    ASSERT_TRUE(fs::exists(b.out() + "/mknod")) << "the container did not run its script";
    // Refused by the file's permissions, which no capability inside overrides.
    EXPECT_NE(slurp(b.out() + "/write.err").find("Permission denied"), std::string::npos) << slurp(b.out() + "/write.err");
}

// "0 H 65536\n" as /proc/PID/uid_map prints it (columns padded): its words.
std::vector<std::uint64_t> map_words(const std::string& map) {
    std::istringstream in(map);
    std::vector<std::uint64_t> words;
    for (std::uint64_t w = 0; in >> w;) words.push_back(w);
    return words;
}

constexpr std::uint64_t kBlockFirst = 0x70010000, kBlockEnd = 0x7FFE0000;

// Without linux.uidMappings a root caller's container maps its ids 0..65535 onto a block
// of 65536 host ids of its own (helper/id_pool.hpp), and sets the config's additionalGids.
TEST(OciRunc, AContainerWithoutMappingsGetsABlockAndItsAdditionalGids) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    Bundle b(json{"/bin/sh", "-c",
                  "cat /proc/self/uid_map > /out/uid_map; cat /proc/self/gid_map > /out/gid_map; "
                  "cat /proc/self/setgroups > /out/setgroups; id -G > /out/groups; echo x > /out/made"},
             json{{"process", {{"user", {{"uid", 10}, {"gid", 10}, {"additionalGids", {5}}}}}}});
    ASSERT_TRUE(run_to_end(b, "block")) << slurp(b.dir() + "/create.err");
    const std::vector<std::uint64_t> uid_map = map_words(slurp(b.out() + "/uid_map"));
    ASSERT_EQ(uid_map.size(), 3u) << slurp(b.out() + "/uid_map");
    EXPECT_EQ(uid_map[0], 0u);
    EXPECT_EQ(uid_map[2], 65536u);
    EXPECT_GE(uid_map[1], kBlockFirst);
    EXPECT_LE(uid_map[1] + 65536, kBlockEnd);
    EXPECT_EQ(map_words(slurp(b.out() + "/gid_map")), uid_map);
    EXPECT_EQ(slurp(b.out() + "/setgroups"), "allow\n");
    EXPECT_EQ(slurp(b.out() + "/groups"), "10 5\n");
    struct stat st {};
    ASSERT_EQ(::stat((b.out() + "/made").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, uid_map[1] + 10);
    EXPECT_EQ(st.st_gid, uid_map[1] + 10);
}

// Two live containers hold disjoint blocks; the block is leased while the container
// lives (its lock, /run/aurora-jail/ids/block-FIRST, cannot be taken) and free once it
// is deleted.
TEST(OciRunc, LiveContainersHoldDisjointBlocksAndDeleteReleasesOne) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    Bundle b(json{"/bin/sh", "-c", "exec sleep 60"});
    std::vector<std::uint64_t> firsts;
    for (const char* id : {"ids1", "ids2"}) {
        ProcessResult c = create(b, id, b.dir() + "/pid-" + id);
        ASSERT_EQ(c.exit_code, 0) << c.err;
        const int pid = state(b, id).value("pid", 0);
        ASSERT_GT(pid, 0);
        const std::vector<std::uint64_t> map = map_words(slurp("/proc/" + std::to_string(pid) + "/uid_map"));
        ASSERT_EQ(map.size(), 3u);
        EXPECT_EQ(map[2], 65536u);
        firsts.push_back(map[1]);
    }
    EXPECT_TRUE(firsts[0] + 65536 <= firsts[1] || firsts[1] + 65536 <= firsts[0]) << firsts[0] << " " << firsts[1];
    const std::string lock = "/run/aurora-jail/ids/block-" + std::to_string(firsts[0]);
    auto free_now = [&] {
        sys::UniqueFd fd(::open(lock.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
        return fd && ::flock(fd.get(), LOCK_EX | LOCK_NB) == 0;  // released when fd closes
    };
    EXPECT_FALSE(free_now()) << lock << " is not held by the live container";
    EXPECT_EQ(runc(b, {"delete", "--force", "ids1"}).exit_code, 0);
    EXPECT_TRUE(free_now()) << lock << " is still held after delete";
    EXPECT_EQ(runc(b, {"delete", "--force", "ids2"}).exit_code, 0);
}

// A root caller's linux.uidMappings/gidMappings are the container's maps, exactly.
TEST(OciRunc, ConfigMappingsAreTheContainersMapsExactly) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    // Host ids no account has: beyond Debian's subordinate ids, below the lease ranges.
    constexpr std::uint64_t kHost = 0x50000000;
    Bundle b(json{"/bin/sh", "-c", "cat /proc/self/uid_map > /out/uid_map; cat /proc/self/gid_map > /out/gid_map"},
             json{{"process", {{"user", {{"uid", 0}, {"gid", 0}}}}},
                  {"linux",
                   {{"uidMappings", {{{"containerID", 0}, {"hostID", kHost}, {"size", 2000}}}},
                    {"gidMappings", {{{"containerID", 0}, {"hostID", kHost}, {"size", 3000}}}}}}});
    ASSERT_TRUE(run_to_end(b, "mapped")) << slurp(b.dir() + "/create.err");
    EXPECT_EQ(map_words(slurp(b.out() + "/uid_map")), (std::vector<std::uint64_t>{0, kHost, 2000}));
    EXPECT_EQ(map_words(slurp(b.out() + "/gid_map")), (std::vector<std::uint64_t>{0, kHost, 3000}));
}

// Host privilege never follows from a config: a range holding host root, or an id a host
// account has (nobody's), is refused at create, naming the range, before anything runs.
TEST(OciRunc, MappingsOntoHostRootAreRefusedOntoAHostAccountWarned) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    const auto config = [](std::uint64_t host) {
        return json{{"process", {{"user", {{"uid", 0}, {"gid", 0}}}}},
                    {"linux",
                     {{"uidMappings", {{{"containerID", 0}, {"hostID", host}, {"size", 10}}}},
                      {"gidMappings", {{{"containerID", 0}, {"hostID", 0x50000000}, {"size", 10}}}}}}};
    };
    Bundle b(json{"/bin/sh", "-c", "echo ran > /out/ran"}, config(0));
    ProcessResult c = create(b, "refused", b.dir() + "/pid");
    EXPECT_EQ(c.exit_code, 1);
    EXPECT_NE(c.err.find("linux.uidMappings 0 0 10: maps host id 0"), std::string::npos) << c.err;
    EXPECT_FALSE(fs::exists(b.state_root() + "/refused"));
    EXPECT_FALSE(fs::exists(b.out() + "/ran"));

    // nobody's uid, an account of every host: the engine asked for it, so it is mapped,
    // and create says what that shares.
    const passwd* nobody = ::getpwnam("nobody");
    ASSERT_NE(nobody, nullptr);
    const std::uint64_t nobody_uid = nobody->pw_uid;
    Bundle a(json{"/bin/sh", "-c", "cat /proc/self/uid_map > /out/map"}, config(nobody_uid - 5));
    ASSERT_TRUE(run_to_end(a, "account")) << slurp(a.dir() + "/create.err");
    const std::string err = slurp(a.dir() + "/create.err");
    if (!helper::ids_known_to_nss()) GTEST_SKIP() << "NSS has a non-local source here";
    EXPECT_NE(err.find("holds host id " + std::to_string(nobody_uid) + ", a user or group of the host"),
              std::string::npos)
        << err;
    std::istringstream map(slurp(a.out() + "/map"));
    std::uint64_t inside = 1, outside = 0, count = 0;
    map >> inside >> outside >> count;
    EXPECT_EQ(inside, 0u);
    EXPECT_EQ(outside, nobody_uid - 5);
    EXPECT_EQ(count, 10u);
}

// A process holding new net, ipc and uts namespaces (`unshare`), as a pod's sandbox
// container holds them; killed (by its pid) when the test ends.
class NamespaceHolder {
public:
    NamespaceHolder() {
        const std::string ready = dir_.path() + "/ready";
        const std::string script = "hostname held-ns && : > '" + ready + "' && exec sleep 600";
        pid_ = ::fork();
        if (pid_ == 0) {
            ::execlp("unshare", "unshare", "--net", "--ipc", "--uts", "sh", "-c", script.c_str(),
                     static_cast<char*>(nullptr));
            ::_exit(127);
        }
        // Ready once it has set the hostname of its new uts namespace.
        for (int i = 0; i < 200 && !fs::exists(ready); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ~NamespaceHolder() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    NamespaceHolder(const NamespaceHolder&) = delete;
    NamespaceHolder& operator=(const NamespaceHolder&) = delete;
    std::string path(const std::string& ns) const { return "/proc/" + std::to_string(pid_) + "/ns/" + ns; }
    std::string link(const std::string& ns) const { return read_link(path(ns)); }
    static std::string own(const std::string& ns) { return read_link("/proc/self/ns/" + ns); }

private:
    static std::string read_link(const std::string& p) {
        std::error_code ec;
        return fs::read_symlink(p, ec).string();
    }
    TempDir dir_;
    pid_t pid_ = -1;
};

// linux.namespaces[].path: the container's PID 1 and process are in the named net, ipc and
// uts namespaces (the monitor joined them before the clone), and state names them.
TEST(OciRunc, NetIpcAndUtsNamespacesAreJoinedByPath) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    NamespaceHolder held;
    TempDir host;
    auto b_hook_out = [&] { return host.path() + "/prestart-ns"; };
    ASSERT_NE(held.link("net"), NamespaceHolder::own("net")) << "unshare did not make a network namespace";
    Bundle b(json{"/bin/sh", "-c",
                  "readlink /proc/self/ns/net /proc/self/ns/ipc /proc/self/ns/uts > /out/ns; hostname > /out/hostname"},
             json{{"linux",
                   {{"namespaces",
                     {{{"type", "pid"}}, {{"type", "mount"}}, {{"type", "user"}}, {{"type", "cgroup"}},
                      {{"type", "network"}, {"path", held.path("net")}},
                      {{"type", "ipc"}, {"path", held.path("ipc")}},
                      {{"type", "uts"}, {"path", held.path("uts")}}}}}},
                  // A hook runs in the runtime's namespaces, not the joined ones.
                  {"hooks",
                   {{"prestart",
                     {{{"path", "/bin/sh"},
                       {"args", {"sh", "-c", "readlink /proc/self/ns/net /proc/self/ns/uts > " + b_hook_out()}}}}}}}});
    ProcessResult c = create(b, "joined", b.dir() + "/pid");
    ASSERT_EQ(c.exit_code, 0) << c.err;
    const json s = state(b, "joined");
    const std::string pid1 = std::to_string(s.value("pid", 0));
    for (const char* ns : {"net", "ipc", "uts"})
        EXPECT_EQ(fs::read_symlink("/proc/" + pid1 + "/ns/" + ns).string(), held.link(ns)) << ns;
    EXPECT_EQ(s["joinedNamespaces"]["network"]["path"], held.path("net")) << s.dump();
    EXPECT_EQ(s["joinedNamespaces"]["uts"]["path"], held.path("uts")) << s.dump();
    ASSERT_EQ(runc(b, {"start", "joined"}).exit_code, 0);
    EXPECT_TRUE(wait_status(b, "joined", "stopped"));
    EXPECT_EQ(runc(b, {"delete", "joined"}).exit_code, 0);
    EXPECT_EQ(slurp(b.out() + "/ns"), held.link("net") + "\n" + held.link("ipc") + "\n" + held.link("uts") + "\n");
    // The joined uts namespace keeps its hostname (the config's is a warning, not set).
    EXPECT_EQ(slurp(b.out() + "/hostname"), "held-ns\n");
    EXPECT_EQ(slurp(b_hook_out()), NamespaceHolder::own("net") + "\n" + NamespaceHolder::own("uts") + "\n");
}

// An ordinary caller holds no CAP_SYS_ADMIN in its own user namespace: it may join no
// namespace at all (not even its own), and create says so, naming the path.
TEST(OciRunc, AnOrdinaryCallerCannotJoinANamespace) {
    if (const char* why = no_runc()) GTEST_SKIP() << why;
    if (running_as_root()) GTEST_SKIP() << "root may join any namespace (NetIpcAndUtsNamespacesAreJoinedByPath)";
    const std::string own = "/proc/" + std::to_string(::getpid()) + "/ns/net";
    Bundle b(json{"/bin/true"},
             json{{"linux", {{"namespaces", {{{"type", "pid"}}, {{"type", "user"}}, {{"type", "network"}, {"path", own}}}}}}});
    ProcessResult c = create(b, "joiner", b.dir() + "/pid");
    EXPECT_EQ(c.exit_code, 1);
    EXPECT_NE(c.err.find("joining the network namespace " + own), std::string::npos) << c.err;
    EXPECT_NE(c.err.find("EPERM"), std::string::npos) << c.err;
    EXPECT_FALSE(fs::exists(b.state_root() + "/joiner"));
}

// hooks: prestart and createRuntime run in create (the state "created" with PID 1's pid on
// their stdin), before the process; poststart in start, poststop in delete. On the host,
// as the caller: they write where the container cannot.
TEST(OciRunc, HooksRunAtTheirPhasesOnTheHost) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    TempDir host;  // 0700, the caller's: out of the sandbox's reach
    TempDir out;   // the container's /out
    fs::permissions(out.path(), fs::perms::all);
    const std::string& b_out = out.path();
    auto hook = [&](const std::string& name) {
        return json{{"path", "/bin/sh"},
                    {"args", {"sh", "-c", "cat > " + host.path() + "/" + name + "; ls " + b_out + " >> " + host.path() + "/" + name + ".out"}}};
    };
    json mounts = json::array(
        {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
         {{"destination", "/usr"}, {"type", "bind"}, {"source", "/usr"}, {"options", {"rbind", "ro"}}},
         {{"destination", "/out"}, {"type", "bind"}, {"source", b_out}, {"options", {"rbind", "rw"}}}});
    Bundle b(json{"/bin/sh", "-c", "echo ran > /out/ran"},
             json{{"mounts", mounts},
                  {"hooks",
                   {{"prestart", {hook("prestart")}},
                    {"createRuntime", {hook("createRuntime")}},
                    {"poststart", {hook("poststart")}},
                    {"poststop", {hook("poststop")}}}}});
    ProcessResult c = create(b, "hooked", b.dir() + "/pid");
    ASSERT_EQ(c.exit_code, 0) << c.err;
    const int pid = state(b, "hooked").value("pid", 0);
    for (const char* name : {"prestart", "createRuntime"}) {
        const json got = read_json(host.path() + "/" + name);
        EXPECT_EQ(got.value("status", ""), "created") << name << ": " << got.dump();
        EXPECT_EQ(got.value("pid", 0), pid) << name;
        EXPECT_EQ(got.value("id", ""), "hooked") << name;
        EXPECT_EQ(got.value("bundle", ""), b.path()) << name;
    }
    // The process had not run when they did (ls of the host's out directory: empty).
    EXPECT_EQ(slurp(host.path() + "/prestart.out"), "");
    EXPECT_FALSE(fs::exists(host.path() + "/poststart"));
    ASSERT_EQ(runc(b, {"start", "hooked"}).exit_code, 0);
    EXPECT_EQ(read_json(host.path() + "/poststart").value("status", ""), "running");
    EXPECT_TRUE(wait_status(b, "hooked", "stopped"));
    EXPECT_FALSE(fs::exists(host.path() + "/poststop"));
    ProcessResult d = runc(b, {"delete", "hooked"});
    EXPECT_EQ(d.exit_code, 0) << d.err;
    EXPECT_EQ(read_json(host.path() + "/poststop").value("status", ""), "stopped");
    EXPECT_EQ(slurp(b_out + "/ran"), "ran\n");
    EXPECT_EQ(slurp(host.path() + "/poststop.out"), "ran\n");
}

// A failing prestart hook fails create: nothing of the container is left and its process
// never runs. A failing poststart hook is logged; the container runs on.
TEST(OciRunc, AFailingPrestartHookFailsCreateAFailingPoststartIsLogged) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    {
        TempDir host;
        const std::string poststop = host.path() + "/poststop";
        Bundle b(json{"/bin/sh", "-c", "echo ran > /out/ran"},
                 json{{"hooks",
                       {{"prestart", {{{"path", "/bin/sh"}, {"args", {"sh", "-c", "echo no-network; exit 4"}}}}},
                        {"poststop", {{{"path", "/bin/sh"}, {"args", {"sh", "-c", "cat > " + poststop}}}}}}}});
        ProcessResult c = create(b, "badhook", b.dir() + "/pid");
        // The lifecycle went on at the poststop hooks.
        EXPECT_EQ(read_json(poststop).value("status", ""), "stopped") << c.err;
        EXPECT_EQ(c.exit_code, 1);
        EXPECT_NE(c.err.find("prestart hook /bin/sh: exit status 4; output: no-network"), std::string::npos) << c.err;
        EXPECT_FALSE(fs::exists(b.state_root() + "/badhook"));
        EXPECT_FALSE(fs::exists(b.dir() + "/pid"));
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        EXPECT_FALSE(fs::exists(b.out() + "/ran")) << "the process ran although its prestart hook failed";
    }
    {
        Bundle b(json{"/bin/sh", "-c", "echo ran > /out/ran"},
                 json{{"hooks", {{"poststart", {{{"path", "/bin/false"}}}}}}});
        ASSERT_EQ(create(b, "poststart", b.dir() + "/pid").exit_code, 0);
        ProcessResult st = runc(b, {"start", "poststart"});
        EXPECT_EQ(st.exit_code, 0) << st.err;
        EXPECT_NE(st.err.find("poststart hook /bin/false: exit status 1"), std::string::npos) << st.err;
        EXPECT_TRUE(wait_status(b, "poststart", "stopped"));
        EXPECT_EQ(slurp(b.out() + "/ran"), "ran\n");
        EXPECT_EQ(runc(b, {"delete", "poststart"}).exit_code, 0);
    }
}

// linux.devices: the host's node, bound into the container's /dev at the same path.
TEST(OciRunc, ListedDevicesAreInTheContainersDev) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    struct stat st {};
    if (::lstat("/dev/kmsg", &st) != 0 || !S_ISCHR(st.st_mode)) GTEST_SKIP() << "this host has no /dev/kmsg";
    Bundle b(json{"/bin/sh", "-c", "stat -c '%F %t:%T' /dev/kmsg > /out/dev"},
             json{{"linux",
                   {{"devices",
                     {{{"path", "/dev/kmsg"}, {"type", "c"}, {"major", ::major(st.st_rdev)}, {"minor", ::minor(st.st_rdev)}}}}}}});
    ProcessResult c = create(b, "dev", b.dir() + "/pid");
    ASSERT_EQ(c.exit_code, 0) << c.err;
    ASSERT_EQ(runc(b, {"start", "dev"}).exit_code, 0);
    EXPECT_TRUE(wait_status(b, "dev", "stopped"));
    EXPECT_EQ(runc(b, {"delete", "dev"}).exit_code, 0);
    char numbers[32];
    std::snprintf(numbers, sizeof numbers, "%x:%x", ::major(st.st_rdev), ::minor(st.st_rdev));
    EXPECT_EQ(slurp(b.out() + "/dev"), std::string("character special file ") + numbers + "\n");
}

// A root caller makes the listed nodes (oci/device_nodes.hpp): the config's type,
// numbers and mode, owned by the config's ids mapped through the container's user
// namespace, on a nosuid, noexec mount; a fifo too. The char device 1:3 reads as
// /dev/null does; 8:0 listed as char is no disk (no char driver 8 on the host).
TEST(OciRunc, RootMakesTheListedNodesWithTheConfigsNumbersModeAndOwner) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    const std::string script =
        "stat -c '%F %t:%T %a %u:%g' /dev/aj-test /dev/aj-fifo /dev/aj-c > /out/stat; "
        "echo x > /dev/aj-test && head -c 10 /dev/aj-test | wc -c > /out/null-read; "
        "(echo through > /dev/aj-fifo &); cat /dev/aj-fifo > /out/fifo; "
        "head -c 1 /dev/aj-c 2> /out/c-err; "
        "grep ' /dev/aj-test ' /proc/self/mountinfo > /out/mountinfo";
    auto node = [](const char* path, const char* type, int major, int minor) {
        return json{{"path", path}, {"type", type}, {"major", major}, {"minor", minor}, {"fileMode", 0600},
                    {"uid", 1000}, {"gid", 1000}};
    };
    Bundle b(json{"/bin/sh", "-c", script},
             json{{"process", {{"user", {{"uid", 1000}, {"gid", 1000}}}}},
                  {"linux",
                   {{"devices", json::array({node("/dev/aj-test", "c", 1, 3), node("/dev/aj-fifo", "p", 0, 0),
                                             node("/dev/aj-c", "c", 8, 0)})}}}});
    ProcessResult c = create(b, "made", b.dir() + "/pid");
    ASSERT_EQ(c.exit_code, 0) << c.err;
    ASSERT_EQ(runc(b, {"start", "made"}).exit_code, 0);
    EXPECT_TRUE(wait_status(b, "made", "stopped"));
    EXPECT_EQ(runc(b, {"delete", "made"}).exit_code, 0);
    // Owned by the container's uid 1000 (the sandbox's host uid): without the owner the
    // map gives it, mode 0600 would keep the process out.
    EXPECT_EQ(slurp(b.out() + "/stat"),
              "character special file 1:3 600 1000:1000\n"
              "fifo 0:0 600 1000:1000\n"
              "character special file 8:0 600 1000:1000\n");
    EXPECT_EQ(slurp(b.out() + "/null-read"), "0\n");
    EXPECT_EQ(slurp(b.out() + "/fifo"), "through\n");
    if (slurp("/proc/devices").find("\n  8 ") == std::string::npos) {
        EXPECT_NE(slurp(b.out() + "/c-err").find("No such device or address"), std::string::npos)
            << slurp(b.out() + "/c-err");
    }
    const std::string mountinfo = slurp(b.out() + "/mountinfo");
    EXPECT_NE(mountinfo.find("nosuid"), std::string::npos) << mountinfo;
    EXPECT_NE(mountinfo.find("noexec"), std::string::npos) << mountinfo;
    EXPECT_EQ(mountinfo.find("nodev"), std::string::npos) << mountinfo;
}

// linux.resources.devices (docs/oci.md, "Device rules"): the container's v1 devices
// cgroup holds the config's rules in order, then the sandbox's own nodes. A made node of
// tun's numbers (10:200, which anyone may open: a read then fails with EBADFD) opens only
// where a rule allows it; /dev/null opens whatever the rules say.
TEST(OciRunc, DeviceRulesDecideWhichNodesTheContainerMayOpen) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    const std::optional<std::string> base = own_cgroup_base();
    if (!base) GTEST_SKIP() << "this process's cgroups are not one path in every hierarchy";
    const std::string devices = mount_of("devices");
    if (devices.empty()) GTEST_SKIP() << "needs a v1 devices hierarchy (cgroup v2 rules are not applied: docs/oci.md)";
    if (slurp("/proc/misc").find("200 tun") == std::string::npos) GTEST_SKIP() << "this kernel has no tun device";
    const json node = {{"path", "/dev/aj-tun"}, {"type", "c"}, {"major", 10}, {"minor", 200}, {"fileMode", 0666}};
    const json deny_all = {{"allow", false}, {"access", "rwm"}};
    const json allow_tun = {{"allow", true}, {"type", "c"}, {"major", 10}, {"minor", 200}, {"access", "rw"}};
    for (const bool allowed : {false, true}) {
        const std::string id = allowed ? "dev-allowed" : "dev-denied";
        const std::string path = *base + "/aj-oci-dev-" + std::to_string(::getpid()) + "-" + id;
        Bundle b(json{"/bin/sh", "-c",
                      "cat /dev/aj-tun 2> /out/tun; cat /dev/null && echo opened > /out/null"},
                 json{{"linux",
                       {{"cgroupsPath", path},
                        {"devices", json::array({node})},
                        {"resources", {{"devices", allowed ? json::array({deny_all, allow_tun})
                                                           : json::array({deny_all})}}}}}});
        ProcessResult c = create(b, id, b.dir() + "/pid");
        ASSERT_EQ(c.exit_code, 0) << c.err;
        // The rule's rw and the made node's m merge into one entry.
        const std::string list = slurp(devices + path + "/devices.list");
        EXPECT_TRUE(list.starts_with(allowed ? "c 10:200 rwm\nc 1:3 rw\n" : "c 1:3 rw\n")) << list;
        if (!allowed) {
            EXPECT_TRUE(list.ends_with("c 136:* rw\nc 10:200 m\n")) << list;
            // update leaves create's rules: written again alone they would shut out /dev/null.
            ProcessResult u = run_process({runc_bin(), "--root", b.state_root(), "update", "-r", "-", id},
                                          R"({"devices":[{"allow":false,"access":"rwm"}],"pids":{"limit":90}})");
            EXPECT_EQ(u.exit_code, 0) << u.err;
            EXPECT_NE(u.err.find("linux.resources.devices: not changed by update"), std::string::npos) << u.err;
            EXPECT_EQ(slurp(devices + path + "/devices.list"), list);
        }
        const std::string pid1 = std::to_string(state(b, id).value("pid", 0));
        EXPECT_NE(slurp("/proc/" + pid1 + "/cgroup").find(":devices:" + path + "\n"), std::string::npos)
            << slurp("/proc/" + pid1 + "/cgroup");
        ASSERT_EQ(runc(b, {"start", id}).exit_code, 0);
        EXPECT_TRUE(wait_status(b, id, "stopped"));
        EXPECT_EQ(runc(b, {"delete", id}).exit_code, 0);
        EXPECT_NE(slurp(b.out() + "/tun").find(allowed ? "File descriptor in bad state" : "Operation not permitted"),
                  std::string::npos)
            << id << ": " << slurp(b.out() + "/tun");
        EXPECT_EQ(slurp(b.out() + "/null"), "opened\n") << id;
        EXPECT_FALSE(fs::exists(devices + path)) << "delete left the devices cgroup";
    }
}

// A node whose listed owner the container's user namespace does not map (70000: beyond
// the 65536 ids of a leased block) stays host root's: nobody's inside, and its owner bits let the container in no more than any
// other file of an unmapped owner (create warns).
TEST(OciRunc, AMadeNodeOfAnUnmappedOwnerGrantsOnlyItsOtherBits) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    Bundle b(json{"/bin/sh", "-c",
                  "stat -c '%u:%g' /dev/aj-test > /out/stat; head -c 1 /dev/aj-test 2> /out/err; echo $? > /out/rc"},
             json{{"process", {{"user", {{"uid", 1000}, {"gid", 1000}}}}},
                  {"linux",
                   {{"devices", json::array({{{"path", "/dev/aj-test"}, {"type", "c"}, {"major", 1}, {"minor", 3},
                                              {"fileMode", 0660}, {"uid", 70000}, {"gid", 70000}}})}}}});
    ProcessResult c = create(b, "unmapped", b.dir() + "/pid");
    ASSERT_EQ(c.exit_code, 0) << c.err;
    ASSERT_EQ(runc(b, {"start", "unmapped"}).exit_code, 0);
    EXPECT_TRUE(wait_status(b, "unmapped", "stopped"));
    EXPECT_EQ(runc(b, {"delete", "unmapped"}).exit_code, 0);
    EXPECT_EQ(slurp(b.out() + "/stat"), "65534:65534\n");
    EXPECT_EQ(slurp(b.out() + "/rc"), "1\n");
    EXPECT_NE(slurp(b.out() + "/err").find("Permission denied"), std::string::npos) << slurp(b.out() + "/err");
}

// What no caller's config may do with linux.devices: name a path outside /dev, or replace
// the sandbox's own /dev/null with other numbers. Refused at create, nothing left behind.
TEST(OciRunc, DevicesOutsideDevOrOverTheSandboxsOwnAreRefused) {
    if (const char* why = no_runc()) GTEST_SKIP() << why;
    for (const auto& [path, why] : {std::pair{"/etc/aj-test", "not a path below /dev"},
                                    std::pair{"/dev/../etc/aj-test", "not a path below /dev"},
                                    std::pair{"/dev/null", "the sandbox's own /dev/null (char 1:3) cannot be replaced"}}) {
        Bundle b(json{"/bin/true"},
                 json{{"linux", {{"devices", json::array({{{"path", path}, {"type", "b"}, {"major", 8}, {"minor", 0}}})}}}});
        ProcessResult r = create(b, "baddev", b.dir() + "/pid");
        EXPECT_EQ(r.exit_code, 1) << path;
        EXPECT_NE(r.err.find(std::string("linux.devices ") + path + ": " + why), std::string::npos) << r.err;
        EXPECT_FALSE(fs::exists(b.state_root() + "/baddev"));
        EXPECT_FALSE(fs::exists("/etc/aj-test"));
    }
}

// An ordinary caller cannot make nodes: a fifo, or a node the host lacks, is refused
// with the reason, as before.
TEST(OciRunc, AnOrdinaryCallerCannotMakeNodes) {
    if (const char* why = no_runc()) GTEST_SKIP() << why;
    if (running_as_root()) GTEST_SKIP() << "host root makes nodes (RootMakesTheListedNodes...)";
    for (const auto& [node, why] :
         {std::pair{json{{"path", "/dev/aj-fifo"}, {"type", "p"}}, "a fifo cannot be made without host root"},
          std::pair{json{{"path", "/dev/aj-test"}, {"type", "c"}, {"major", 1}, {"minor", 3}},
                    "the host has no such node to bind (a user namespace cannot create device nodes)"}}) {
        Bundle b(json{"/bin/true"}, json{{"linux", {{"devices", json::array({node})}}}});
        ProcessResult r = create(b, "nodev", b.dir() + "/pid");
        EXPECT_EQ(r.exit_code, 1);
        EXPECT_NE(r.err.find(why), std::string::npos) << r.err;
        EXPECT_FALSE(fs::exists(b.state_root() + "/nodev"));
    }
}

// A config that lists no ipc and no uts namespace shares the runtime's (the spec's rule;
// podman's --ipc=host, --uts=host). What the container still cannot do there: set the
// host's hostname, or remove an IPC object of the runtime's it was not given (a private
// shared memory segment of the test's).
TEST(OciRunc, IpcAndUtsLeftOutAreTheRuntimesButGrantNothingOverThem) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    const int shm = ::shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    ASSERT_GE(shm, 0) << std::strerror(errno);
    const std::string id = std::to_string(shm);
    Bundle b(json{"/bin/sh", "-c",
                  "readlink /proc/self/ns/ipc /proc/self/ns/uts /proc/self/ns/pid > /out/ns; hostname > /out/hostname; "
                  "hostname aj-changed 2> /out/sethostname; echo $? >> /out/sethostname; ipcrm -m " + id + " 2> /out/ipcrm; echo $? > /out/ipcrm-rc"},
             json{{"linux",
                   {{"namespaces", json::array({{{"type", "pid"}}, {{"type", "mount"}}, {{"type", "user"}},
                                                {{"type", "cgroup"}}, {{"type", "network"}}})}}}});
    char host_name[256] = {};
    ::gethostname(host_name, sizeof host_name - 1);
    ProcessResult c = create(b, "hostipc", b.dir() + "/pid");
    EXPECT_NE(c.err.find("no ipc namespace listed: the container shares the runtime's"), std::string::npos) << c.err;
    if (c.exit_code == 0) {
        EXPECT_EQ(runc(b, {"start", "hostipc"}).exit_code, 0);
        EXPECT_TRUE(wait_status(b, "hostipc", "stopped"));
        EXPECT_EQ(runc(b, {"delete", "hostipc"}).exit_code, 0);
    }
    shmid_ds ds{};
    const bool segment_left = ::shmctl(shm, IPC_STAT, &ds) == 0;
    ::shmctl(shm, IPC_RMID, nullptr);
    ASSERT_EQ(c.exit_code, 0) << c.err;
    auto own = [](const char* ns) { return fs::read_symlink(std::string("/proc/self/ns/") + ns).string() + "\n"; };
    const std::string ns = slurp(b.out() + "/ns");
    EXPECT_TRUE(ns.starts_with(own("ipc") + own("uts"))) << ns;
    EXPECT_EQ(ns.find(own("pid")), std::string::npos) << ns;  // its pid namespace is still its own
    EXPECT_EQ(slurp(b.out() + "/hostname"), std::string(host_name) + "\n");
    const std::string sethostname = slurp(b.out() + "/sethostname");
    EXPECT_FALSE(sethostname.ends_with("\n0\n") || sethostname == "0\n") << sethostname;
    char after[256] = {};
    ::gethostname(after, sizeof after - 1);
    EXPECT_STREQ(after, host_name);
    EXPECT_NE(slurp(b.out() + "/ipcrm-rc"), "0\n") << slurp(b.out() + "/ipcrm");
    EXPECT_FALSE(slurp(b.out() + "/ipcrm-rc").empty());
    EXPECT_TRUE(segment_left);
}

TEST(OciRunc, UnsupportedOrBrokenBundlesAreRefusedBeforeAnythingRuns) {
    if (const char* why = no_runc()) GTEST_SKIP() << why;
    {
        Bundle b(json{"/bin/true"}, json{{"linux", {{"namespaces", {{{"type", "pid"}, {"path", "/proc/1/ns/pid"}}}}}}});
        ProcessResult r = create(b, "bad1", b.dir() + "/pid");
        EXPECT_EQ(r.exit_code, 1);
        EXPECT_NE(r.err.find("linux.namespaces pid path /proc/1/ns/pid: joining it is not supported"),
                  std::string::npos)
            << r.err;
        EXPECT_FALSE(fs::exists(b.state_root() + "/bad1"));
        EXPECT_FALSE(fs::exists(b.dir() + "/pid"));
    }
    {
        Bundle b(json{"/bin/true"}, json{{"hooks", {{"createContainer", {{{"path", "/bin/true"}}}}}}});
        ProcessResult r = create(b, "bad2", b.dir() + "/pid");
        EXPECT_EQ(r.exit_code, 1);
        EXPECT_NE(r.err.find("hooks.createContainer: not supported yet"), std::string::npos) << r.err;
    }
    {
        Bundle b(json{"/bin/true"}, json{{"mounts", {{{"destination", "/mnt"}, {"type", "nfs"}, {"source", "x"}}}}});
        ProcessResult r = create(b, "bad3", b.dir() + "/pid");
        EXPECT_EQ(r.exit_code, 1);
        EXPECT_NE(r.err.find("mounts /mnt"), std::string::npos) << r.err;
    }
    {
        Bundle b(json{"/bin/true"});
        fs::remove(b.path() + "/config.json");
        ProcessResult r = create(b, "bad4", b.dir() + "/pid");
        EXPECT_EQ(r.exit_code, 1);
        EXPECT_NE(r.err.find("config.json"), std::string::npos) << r.err;
        ProcessResult id = create(b, "../escape", b.dir() + "/pid");
        EXPECT_EQ(id.exit_code, 1);
        EXPECT_NE(id.err.find("invalid container ID format"), std::string::npos) << id.err;
    }
}

TEST(OciRunc, JsonLogAndRuncWording) {
    if (const char* why = no_runc()) GTEST_SKIP() << why;
    TempDir dir;
    const std::string log = dir.path() + "/log.json";
    ProcessResult r = run_process(
        {runc_bin(), "--root", dir.path() + "/state", "--log", log, "--log-format", "json", "state", "nope"});
    EXPECT_EQ(r.exit_code, 1);
    const json line = json::parse(slurp(log));
    EXPECT_EQ(line.value("level", ""), "error");
    EXPECT_EQ(line.value("msg", ""), "container does not exist");

    ProcessResult v = run_process({runc_bin(), "--version"});
    EXPECT_EQ(v.exit_code, 0);
    EXPECT_EQ(v.out.rfind("aurora-runc version ", 0), 0u) << v.out;
    ProcessResult f = run_process({runc_bin(), "features"});
    ASSERT_EQ(f.exit_code, 0) << f.err;
    const json features = json::parse(f.out);
    EXPECT_EQ(features.value("ociVersionMin", ""), "1.0.0");
    EXPECT_TRUE(features["linux"]["namespaces"].is_array());
    EXPECT_EQ(features["hooks"], json({"prestart", "createRuntime", "poststart", "poststop"}));
    const json& seccomp = features["linux"]["seccomp"];
    EXPECT_EQ(seccomp.value("enabled", false), true) << seccomp.dump();
    EXPECT_NE(std::find(seccomp["actions"].begin(), seccomp["actions"].end(), "SCMP_ACT_ERRNO"), seccomp["actions"].end());
    EXPECT_EQ(std::find(seccomp["actions"].begin(), seccomp["actions"].end(), "SCMP_ACT_NOTIFY"), seccomp["actions"].end());
    EXPECT_NE(std::find(seccomp["archs"].begin(), seccomp["archs"].end(), "SCMP_ARCH_X86_64"), seccomp["archs"].end());
    ProcessResult bad = run_process({runc_bin(), "--root", dir.path() + "/state", "kill", "nope", "NOSUCHSIG"});
    EXPECT_EQ(bad.exit_code, 1);
    EXPECT_NE(bad.err.find("unknown signal"), std::string::npos) << bad.err;
}

// exec: a running container and a process.json for it (the config's `process` object).
class ExecFixture {
public:
    explicit ExecFixture(const json& extra = json::object())
        : b(json{"/bin/sh", "-c", "echo ready > /out/ready; exec sleep 120"}, extra) {}
    // create + start; PID 1's host pid, or 0.
    pid_t run(const std::string& id) {
        id_ = id;
        ProcessResult c = create(b, id, b.dir() + "/pid");
        EXPECT_EQ(c.exit_code, 0) << c.err;
        if (c.exit_code != 0) return 0;
        EXPECT_EQ(runc(b, {"start", id}).exit_code, 0);
        EXPECT_TRUE(wait_file(b.out() + "/ready"));
        return state(b, id).value("pid", 0);
    }
    std::string process_file(const json& args, const json& extra = json::object()) {
        json process{{"args", args}, {"env", {"PATH=/usr/bin:/bin"}}, {"cwd", "/"}, {"user", {{"uid", 65534}, {"gid", 65534}}}};
        process.merge_patch(extra);
        std::string path = b.dir() + "/process" + std::to_string(++files_) + ".json";
        std::ofstream(path) << process.dump();
        return path;
    }
    ProcessResult exec(const json& args, const json& extra = json::object()) {
        return runc(b, {"exec", "--process", process_file(args, extra), id_});
    }
    ~ExecFixture() {
        if (!id_.empty()) (void)runc(b, {"delete", "--force", id_});
    }
    ExecFixture(const ExecFixture&) = delete;
    ExecFixture& operator=(const ExecFixture&) = delete;
    Bundle b;

private:
    std::string id_;
    int files_ = 0;
};

std::string ns_links(pid_t pid) {
    std::string out;
    for (const char* ns : {"cgroup", "ipc", "mnt", "net", "pid", "user", "uts"})
        out += fs::read_symlink("/proc/" + std::to_string(pid) + "/ns/" + ns).string() + "\n";
    return out;
}

// Without --detach: the process runs inside (the container's root, hostname, identity and
// every namespace of its PID 1), its stdio is the caller's, and exec exits with its
// status, 128+N when signal N killed it.
// exec takes any id the container's namespace maps (a root caller's block) and sets the
// process.json's additionalGids there; a supplementary gid the namespace does not map is
// refused by name.
TEST(OciRunc, ExecTakesMappedIdsAndAdditionalGids) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    if (!running_as_root()) GTEST_SKIP() << "only a root caller's container maps a block of ids";
    ExecFixture f;
    ASSERT_GT(f.run("exg"), 0);
    ProcessResult r = f.exec({"/bin/sh", "-c", "id -u; id -G"},
                             json{{"user", {{"uid", 7}, {"gid", 8}, {"additionalGids", {5, 9}}}}});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "7\n8 5 9\n") << r.err;
    ProcessResult unmapped = f.exec({"/bin/true"}, json{{"user", {{"uid", 7}, {"gid", 8}, {"additionalGids", {70000}}}}});
    EXPECT_EQ(unmapped.exit_code, 1);
    EXPECT_NE(unmapped.err.find("process.user.additionalGids 70000: the container does not map it"), std::string::npos)
        << unmapped.err;
}

TEST(OciRunc, ExecRunsInTheContainerAndExitsWithItsStatus) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    ExecFixture f;
    const pid_t pid1 = f.run("ex");
    ASSERT_GT(pid1, 0);
    ProcessResult r = f.exec({"/bin/sh", "-c", "echo x; hostname; cat /etc/greeting; id -u; id -G; "
                                               "for n in cgroup ipc mnt net pid user uts; do readlink /proc/self/ns/$n; done >&2; "
                                               "exit 4"});
    EXPECT_EQ(r.exit_code, 4) << r.err;
    EXPECT_EQ(r.out, "x\noci-test\nfrom the rootfs\n65534\n65534\n");
    EXPECT_EQ(r.err, ns_links(pid1));
    EXPECT_EQ(f.exec({"/bin/sh", "-c", "kill -9 $$"}).exit_code, 137);
    // The container's process is untouched by either.
    EXPECT_EQ(state(f.b, "ex").value("status", ""), "running");
}

// --detach: the pid file names the exec'd process, a child of exec reparented to the
// engine (a subreaper, as conmon and containerd's shim are), which reaps it with its
// status; it is in the container's cgroups, and ps lists it with the container's.
TEST(OciRunc, DetachedExecIsReapedByTheEngineAndListedByPs) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    ExecFixture f;
    const pid_t pid1 = f.run("exd");
    ASSERT_GT(pid1, 0);
    const std::string pid_file = f.b.dir() + "/exec.pid";
    const std::string process = f.process_file({"/bin/sh", "-c", "echo started > /out/exec; read x < /out/go.fifo; exit 5"});
    ASSERT_EQ(::mkfifo((f.b.out() + "/go.fifo").c_str(), 0666), 0);
    std::fflush(nullptr);
    const pid_t engine = ::fork();
    ASSERT_GE(engine, 0);
    if (engine == 0) {
        ::prctl(PR_SET_CHILD_SUBREAPER, 1);
        const pid_t p = ::fork();
        if (p == 0) {
            const int null = ::open("/dev/null", O_RDWR);
            for (int fd = 0; fd < 3; ++fd) ::dup2(null, fd);
            ::execl(runc_bin().c_str(), runc_bin().c_str(), "--root", f.b.state_root().c_str(), "exec", "--detach",
                    "--pid-file", pid_file.c_str(), "--process", process.c_str(), "exd", static_cast<char*>(nullptr));
            ::_exit(127);
        }
        int status = 0;
        ::waitpid(p, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ::_exit(101);
        const pid_t exec = static_cast<pid_t>(std::strtol(slurp(pid_file).c_str(), nullptr, 10));
        if (exec <= 0) ::_exit(102);
        if (::waitpid(exec, &status, 0) != exec) ::_exit(103);
        ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 104);
    }
    ASSERT_TRUE(wait_file(f.b.out() + "/exec"));
    const pid_t exec = static_cast<pid_t>(std::strtol(slurp(pid_file).c_str(), nullptr, 10));
    ASSERT_GT(exec, 0);
    EXPECT_EQ(ns_links(exec), ns_links(pid1));
    EXPECT_EQ(slurp("/proc/" + std::to_string(exec) + "/cgroup"), slurp("/proc/" + std::to_string(pid1) + "/cgroup"));
    ProcessResult ps = runc(f.b, {"ps", "--format", "json", "exd"});
    ASSERT_EQ(ps.exit_code, 0) << ps.err;
    const json pids = json::parse(ps.out);
    EXPECT_NE(std::find(pids.begin(), pids.end(), json(pid1)), pids.end()) << ps.out;
    EXPECT_NE(std::find(pids.begin(), pids.end(), json(exec)), pids.end()) << ps.out;
    EXPECT_NE(std::find(pids.begin(), pids.end(), json(first_child(pid1))), pids.end()) << ps.out;
    ProcessResult table = runc(f.b, {"ps", "exd"});
    EXPECT_EQ(table.exit_code, 0) << table.err;
    EXPECT_NE(table.out.find("sleep 120"), std::string::npos) << table.out;
    std::ofstream(f.b.out() + "/go.fifo") << "go\n";
    int status = 0;
    ASSERT_EQ(::waitpid(engine, &status, 0), engine);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 5) << "101 exec failed, 102 pid file, 103 not reapable";
}

// The escape test: the exec'd process has no more than the container's own process.
// The container keeps CAP_SYS_CHROOT and CAP_SYS_PTRACE, sets noNewPrivileges, an
// RLIMIT_NOFILE and an OOM score; process.json asks for CAP_SYS_ADMIN and CAP_NET_ADMIN beyond them,
// without noNewPrivileges or rlimits. chroot(2) is refused by the container's seccomp
// program whatever the capabilities (with CAP_SYS_CHROOT it would succeed otherwise);
// PID 1's environment (ptrace access) stays closed.
TEST(OciRunc, ExecIsHeldToTheContainersRestrictions) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    const json kept = {"CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_KILL"};
    ExecFixture f(json{{"process",
                        {{"user", {{"uid", 0}, {"gid", 0}}},
                         {"oomScoreAdj", 500},
                         {"noNewPrivileges", true},
                         {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 333}, {"soft", 333}}}},
                         {"capabilities", {{"bounding", kept}, {"effective", kept}, {"permitted", kept}}}}}});
    const pid_t pid1 = f.run("esc");
    ASSERT_GT(pid1, 0);
    const json asked = {"CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_ADMIN", "CAP_NET_ADMIN"};
    const json as_root = {{"user", {{"uid", 0}, {"gid", 0}}},
                          {"noNewPrivileges", false},
                          {"capabilities", {{"bounding", asked}, {"effective", asked}, {"permitted", asked}}}};
    ProcessResult r = f.exec({"/bin/sh", "-c", "cat /proc/self/status > /out/status; ulimit -Hn > /out/nofile; "
                                               "cat /proc/self/oom_score_adj > /out/oom; "
                                               "/usr/sbin/chroot / true 2> /out/chroot.err; echo $? > /out/chroot; "
                                               "cat /proc/1/environ > /dev/null 2> /out/environ.err; echo $? > /out/environ"},
                             as_root);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string status = slurp(f.b.out() + "/status");
    // SYS_CHROOT (18), SYS_PTRACE (19): what both ask for; KILL only the container's.
    EXPECT_EQ(status_field(status, "CapBnd"), "00000000000c0000") << status;
    EXPECT_EQ(status_field(status, "CapEff"), "00000000000c0000") << status;
    EXPECT_EQ(status_field(status, "NoNewPrivs"), "1") << status;
    EXPECT_EQ(status_field(status, "Seccomp"), "2") << status;
    EXPECT_EQ(slurp(f.b.out() + "/nofile"), "333\n");
    EXPECT_EQ(slurp(f.b.out() + "/oom"), "500\n") << "not the container's OOM score";
    EXPECT_NE(slurp(f.b.out() + "/chroot"), "0\n") << "chroot(2) passed the container's seccomp program";
    EXPECT_NE(slurp(f.b.out() + "/chroot.err").find("Operation not permitted"), std::string::npos)
        << slurp(f.b.out() + "/chroot.err");
    EXPECT_NE(slurp(f.b.out() + "/environ"), "0\n") << "PID 1's environment was readable";
    // Its files land on the host as the container's host uid, never root.
    struct stat st {};
    ASSERT_EQ(::stat((f.b.out() + "/status").c_str(), &st), 0);
    EXPECT_NE(st.st_uid, 0u);
    struct stat main_st {};
    ASSERT_EQ(::stat((f.b.out() + "/ready").c_str(), &main_st), 0);
    EXPECT_EQ(st.st_uid, main_st.st_uid);
    // A uid the container's namespace does not map (beyond a leased block's 65536) is
    // refused before anything runs.
    ProcessResult other = f.exec({"/bin/true"}, json{{"user", {{"uid", 70000}, {"gid", 0}}}});
    EXPECT_EQ(other.exit_code, 1);
    EXPECT_NE(other.err.find("process.user.uid 70000: the container does not map it"), std::string::npos)
        << other.err;
}

// /proc/self/limits as "soft/hard" by its label ("Max open files"), "unlimited" as the
// kernel writes it.
std::map<std::string, std::string> proc_limits(const std::string& text) {
    std::map<std::string, std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.size() < 26 || line.starts_with("Limit ")) continue;
        std::string label = line.substr(0, 25);
        label.erase(label.find_last_not_of(' ') + 1);
        std::istringstream values(line.substr(25));
        std::string soft, hard;
        values >> soft >> hard;
        out[label] = soft + "/" + hard;
    }
    return out;
}

// What a request for soft/hard becomes under the hard limit aurora-runc inherits from
// this test (the last ceiling, applied in the container's process), as /proc shows it.
std::string under_inherited(int resource, rlim_t soft, rlim_t hard) {
    rlimit own{};
    EXPECT_EQ(::getrlimit(resource, &own), 0);
    hard = std::min(hard, own.rlim_max);
    soft = std::min(soft, hard);
    auto text = [](rlim_t v) { return v == RLIM_INFINITY ? std::string("unlimited") : std::to_string(v); };
    return text(soft) + "/" + text(hard);
}

// process.rlimits (docs/oci.md, "Resource limits"): every type applies as written, soft
// and hard apart, below the policy's limits; above them (RLIMIT_CORE: 0 by policy;
// RLIMIT_SIGPENDING: the sandbox's quota) the policy's applies and create says so.
TEST(OciRunc, TheConfigsRlimitsApplyUnderThePolicysLimits) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    const json rlimits = {{{"type", "RLIMIT_NOFILE"}, {"soft", 100}, {"hard", 200}},
                          {{"type", "RLIMIT_NPROC"}, {"soft", 50}, {"hard", 100}},
                          {{"type", "RLIMIT_AS"}, {"soft", 3LL << 30}, {"hard", 4LL << 30}},
                          {{"type", "RLIMIT_STACK"}, {"soft", 1 << 20}, {"hard", 2 << 20}},
                          {{"type", "RLIMIT_CPU"}, {"soft", 100}, {"hard", 200}},
                          {{"type", "RLIMIT_MEMLOCK"}, {"soft", 32768}, {"hard", 65536}},
                          {{"type", "RLIMIT_LOCKS"}, {"soft", 10}, {"hard", 20}},
                          {{"type", "RLIMIT_CORE"}, {"soft", 1 << 20}, {"hard", 2 << 20}},
                          {{"type", "RLIMIT_SIGPENDING"}, {"soft", 100}, {"hard", 5000}}};
    Bundle b(json{"/bin/sh", "-c", "cat /proc/self/limits > /out/limits"}, json{{"process", {{"rlimits", rlimits}}}});
    ASSERT_TRUE(run_to_end(b, "rlimits")) << slurp(b.dir() + "/create.err");
    const std::map<std::string, std::string> limits = proc_limits(slurp(b.out() + "/limits"));
    EXPECT_EQ(limits.at("Max open files"), "100/200");
    EXPECT_EQ(limits.at("Max processes"), "50/100");
    EXPECT_EQ(limits.at("Max address space"), under_inherited(RLIMIT_AS, 3ULL << 30, 4ULL << 30));
    EXPECT_EQ(limits.at("Max stack size"), under_inherited(RLIMIT_STACK, 1 << 20, 2 << 20));
    EXPECT_EQ(limits.at("Max cpu time"), under_inherited(RLIMIT_CPU, 100, 200));
    EXPECT_EQ(limits.at("Max locked memory"), under_inherited(RLIMIT_MEMLOCK, 32768, 65536));
    EXPECT_EQ(limits.at("Max file locks"), under_inherited(RLIMIT_LOCKS, 10, 20));
    EXPECT_EQ(limits.at("Max core file size"), "0/0");
    EXPECT_EQ(limits.at("Max pending signals"), under_inherited(RLIMIT_SIGPENDING, 100, 1024));
    const std::string err = slurp(b.dir() + "/create.err");
    EXPECT_NE(err.find("process.rlimits RLIMIT_CORE 1048576/2097152: 0/0 applies (no core dumps from a sandbox"),
              std::string::npos)
        << err;
    EXPECT_NE(err.find("process.rlimits RLIMIT_SIGPENDING 100/5000: 100/1024 applies"), std::string::npos) << err;
    EXPECT_EQ(err.find("RLIMIT_NOFILE"), std::string::npos) << err;
}

// RLIMIT_NPROC 0 (or 1): the container starts, as under runc, and only its forks are
// refused. Its hard value narrows the sandbox's pids limit, which counts the sandbox's
// init too: narrowed to the value itself, PID 1 took the only pid and the command's start
// failed (clone: EAGAIN).
TEST(OciRunc, AnNprocLimitOfZeroStartsTheContainerAndRefusesItsForks) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    Bundle b(json{"/bin/sh", "-c", "echo started > /out/nproc; /bin/true && echo forked >> /out/nproc; exit 0"},
             json{{"process", {{"rlimits", {{{"type", "RLIMIT_NPROC"}, {"soft", 0}, {"hard", 0}}}}}}});
    ASSERT_TRUE(run_to_end(b, "nproc0")) << slurp(b.dir() + "/create.err");
    EXPECT_EQ(slurp(b.out() + "/nproc"), "started\n") << slurp(b.dir() + "/create.err");
}

// exec's process.json: its own rlimits under the container's limits (the config's
// RLIMIT_NOFILE hard value narrowed the policy's), or the config's when it lists none.
TEST(OciRunc, ExecsRlimitsApplyUnderTheContainersLimits) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    ExecFixture f(json{{"process", {{"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"soft", 300}, {"hard", 600}}}}}}});
    ASSERT_GT(f.run("exrl"), 0);
    ProcessResult own = f.exec({"cat", "/proc/self/limits"},
                               json{{"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"soft", 100}, {"hard", 900}},
                                                 {{"type", "RLIMIT_STACK"}, {"soft", 1 << 20}, {"hard", 2 << 20}},
                                                 {{"type", "RLIMIT_CORE"}, {"soft", 1}, {"hard", 1}}}}});
    ASSERT_EQ(own.exit_code, 0) << own.err;
    std::map<std::string, std::string> limits = proc_limits(own.out);
    EXPECT_EQ(limits.at("Max open files"), "100/600") << "above the container's hard limit";
    EXPECT_EQ(limits.at("Max stack size"), under_inherited(RLIMIT_STACK, 1 << 20, 2 << 20));
    EXPECT_EQ(limits.at("Max core file size"), "0/0");
    EXPECT_NE(own.err.find("process.rlimits RLIMIT_NOFILE 100/900: 100/600 applies"), std::string::npos) << own.err;
    EXPECT_NE(own.err.find("process.rlimits RLIMIT_CORE 1/1: 0/0 applies"), std::string::npos) << own.err;
    ProcessResult inherited = f.exec({"cat", "/proc/self/limits"});
    ASSERT_EQ(inherited.exit_code, 0) << inherited.err;
    EXPECT_EQ(proc_limits(inherited.out).at("Max open files"), "300/600") << "not the config's";
}

// An exec'd process is of the container's pid namespace: it ends with the container.
TEST(OciRunc, ADetachedExecEndsWithTheContainer) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    ExecFixture f;
    ASSERT_GT(f.run("exk"), 0);
    const std::string pid_file = f.b.dir() + "/exec.pid";
    ProcessResult e = run_process({"/bin/sh", "-c",
                                   "'" + runc_bin() + "' --root '" + f.b.state_root() + "' exec --detach --pid-file '" +
                                       pid_file + "' --process '" + f.process_file({"sleep", "1000"}) +
                                       "' exk </dev/null >/dev/null 2>'" + f.b.dir() + "/exec.err'"});
    ASSERT_EQ(e.exit_code, 0) << slurp(f.b.dir() + "/exec.err");
    const pid_t exec = static_cast<pid_t>(std::strtol(slurp(pid_file).c_str(), nullptr, 10));
    ASSERT_GT(exec, 0);
    EXPECT_EQ(::kill(exec, 0), 0);
    ASSERT_EQ(runc(f.b, {"kill", "exk", "KILL"}).exit_code, 0);
    EXPECT_TRUE(wait_status(f.b, "exk", "stopped"));
    for (int i = 0; i < 100 && ::kill(exec, 0) == 0 && process_state(exec) != "Z"; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_TRUE(::kill(exec, 0) != 0 || process_state(exec) == "Z") << "the exec'd process outlived its container";
}

// linux.seccomp (docs/oci.md, "Seccomp profiles"): mkdir and mkdirat refused with
// EXDEV, an errno no other layer answers mkdir with, and fchmodat refused with ETXTBSY
// only for the mode 0700 (an argument rule), on top of the policy's own filter.
json mkdir_profile() {
    return json{{"defaultAction", "SCMP_ACT_ALLOW"},
                {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
                {"syscalls",
                 {{{"names", {"mkdir", "mkdirat", "no_such_call_here"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", EXDEV}},
                  {{"names", {"fchmodat", "fchmodat2"}},
                   {"action", "SCMP_ACT_ERRNO"},
                   {"errnoRet", ETXTBSY},
                   {"args", {{{"index", 2}, {"value", 0700}, {"op", "SCMP_CMP_EQ"}}}}}}}};
}

constexpr const char* kMkdirAndChmod =
    "mkdir /out/d 2> /out/mkdir.err; echo $? > /out/mkdir; : > /out/f; "
    "chmod 700 /out/f 2> /out/chmod700.err; echo $? > /out/chmod700; chmod 755 /out/f; echo $? > /out/chmod755";

TEST(OciRunc, TheConfigsSeccompProfileIsEnforcedOnTopOfThePolicy) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    {
        // The control: the same container without the profile makes the directory.
        Bundle plain(json{"/bin/sh", "-c", kMkdirAndChmod});
        ASSERT_TRUE(run_to_end(plain, "noprofile")) << slurp(plain.dir() + "/create.err");
        EXPECT_EQ(slurp(plain.out() + "/mkdir"), "0\n") << slurp(plain.out() + "/mkdir.err");
        EXPECT_EQ(slurp(plain.out() + "/chmod700"), "0\n") << slurp(plain.out() + "/chmod700.err");
    }
    Bundle b(json{"/bin/sh", "-c", kMkdirAndChmod + std::string("; grep ^Seccomp /proc/self/status > /out/status")},
             json{{"linux", {{"seccomp", mkdir_profile()}}}});
    ASSERT_TRUE(run_to_end(b, "profile")) << slurp(b.dir() + "/create.err");
    EXPECT_EQ(slurp(b.out() + "/mkdir"), "1\n");
    EXPECT_NE(slurp(b.out() + "/mkdir.err").find(std::strerror(EXDEV)), std::string::npos) << slurp(b.out() + "/mkdir.err");
    EXPECT_FALSE(fs::exists(b.out() + "/d"));
    EXPECT_EQ(slurp(b.out() + "/chmod700"), "1\n");
    EXPECT_NE(slurp(b.out() + "/chmod700.err").find(std::strerror(ETXTBSY)), std::string::npos)
        << slurp(b.out() + "/chmod700.err");
    EXPECT_EQ(slurp(b.out() + "/chmod755"), "0\n") << "the argument rule refused another mode";
    // Two filters: the policy's and the profile's.
    EXPECT_EQ(slurp(b.out() + "/status"), "Seccomp:\t2\nSeccomp_filters:\t2\n");
    // No warning says the profile is ignored any more.
    EXPECT_EQ(slurp(b.dir() + "/create.err").find("linux.seccomp"), std::string::npos) << slurp(b.dir() + "/create.err");
}

// An allow-list like podman's default (defaultAction SCMP_ACT_ERRNO): every call this
// libseccomp knows except mkdir and mkdirat, which get the default errno.
TEST(OciRunc, AnAllowListProfileRunsAShellAndRefusesWhatItDoesNotList) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    json names = json::array();
    for (const std::string& name : policy::native_syscall_names())
        if (name != "mkdir" && name != "mkdirat") names.push_back(name);
    const json profile{{"defaultAction", "SCMP_ACT_ERRNO"},
                       {"defaultErrnoRet", ENOSYS},
                       {"flags", {"SECCOMP_FILTER_FLAG_SPEC_ALLOW"}},
                       {"syscalls", {{{"names", names}, {"action", "SCMP_ACT_ALLOW"}}}}};
    Bundle b(json{"/bin/sh", "-c", "cat /etc/greeting > /out/greeting; mkdir /out/d 2> /out/mkdir.err; echo $? > /out/mkdir"},
             json{{"linux", {{"seccomp", profile}}}});
    ASSERT_TRUE(run_to_end(b, "allowlist")) << slurp(b.dir() + "/create.err");
    EXPECT_EQ(slurp(b.out() + "/greeting"), "from the rootfs\n");
    EXPECT_EQ(slurp(b.out() + "/mkdir"), "1\n");
    EXPECT_NE(slurp(b.out() + "/mkdir.err").find(std::strerror(ENOSYS)), std::string::npos) << slurp(b.out() + "/mkdir.err");
}

// exec compiles the recorded profile again: the exec'd process is held to it too.
TEST(OciRunc, ExecIsHeldToTheConfigsSeccompProfile) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    ExecFixture f(json{{"linux", {{"seccomp", mkdir_profile()}}}});
    ASSERT_GT(f.run("exsc"), 0);
    ProcessResult r = f.exec({"/bin/sh", "-c", "mkdir /out/e; echo $? >&2; grep Seccomp_filters: /proc/self/status"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find(std::strerror(EXDEV)), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(f.b.out() + "/e"));
    EXPECT_EQ(r.out, "Seccomp_filters:\t2\n");
}

// What the profile asks for and this build cannot enforce fails create, naming the field.
TEST(OciRunc, ASeccompProfileThatCannotBeEnforcedIsRefusedAtCreate) {
    if (const char* why = no_runc()) GTEST_SKIP() << why;
    const std::vector<std::pair<json, std::string>> cases = {
        {json{{"defaultAction", "SCMP_ACT_ALLOW"},
              {"syscalls", {{{"names", {"mkdir"}}, {"action", "SCMP_ACT_NOTIFY"}}}}},
         "linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY is not supported"},
        {json{{"defaultAction", "SCMP_ACT_ALLOW"}, {"listenerPath", "/run/agent.sock"}},
         "linux.seccomp.listenerPath: not supported"},
        {json{{"defaultAction", "SCMP_ACT_ALLOW"},
              {"syscalls", {{{"names", {"mkdir"}}, {"action", "SCMP_ACT_EXPLODE"}}}}},
         "linux.seccomp.syscalls[0].action: SCMP_ACT_EXPLODE is not a known action"},
        {json{{"defaultAction", "SCMP_ACT_ALLOW"},
              {"syscalls", {{{"names", {"mkdir"}}, {"action", "SCMP_ACT_ERRNO"},
                             {"args", {{{"index", 0}, {"value", 1}, {"op", "SCMP_CMP_SORTOF"}}}}}}}},
         "linux.seccomp.syscalls[0].args[0].op: SCMP_CMP_SORTOF is not a known operator"},
        {json{{"defaultAction", "SCMP_ACT_ALLOW"}, {"architectures", {"SCMP_ARCH_VAX"}}},
         "linux.seccomp.architectures[0]: SCMP_ARCH_VAX is not an architecture this build knows"},
        {json{{"defaultAction", "SCMP_ACT_ALLOW"}, {"flags", {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"}}},
         "linux.seccomp.flags[0]: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV is for a listener"},
    };
    int n = 0;
    for (const auto& [profile, message] : cases) {
        Bundle b(json{"/bin/true"}, json{{"linux", {{"seccomp", profile}}}});
        const std::string id = "sc" + std::to_string(++n);
        ProcessResult r = create(b, id, b.dir() + "/pid");
        EXPECT_EQ(r.exit_code, 1) << message;
        EXPECT_NE(r.err.find("config.json: " + message), std::string::npos) << r.err;
        EXPECT_FALSE(fs::exists(b.state_root() + "/" + id));
        EXPECT_FALSE(fs::exists(b.dir() + "/pid"));
    }
}

// The profile is loaded after the policy's filter: a named policy refusing seccomp(2)
// could not take it, and create says so before anything runs.
TEST(OciRunc, APolicyRefusingSeccompCannotTakeTheConfigsProfile) {
    if (const char* why = no_runc()) GTEST_SKIP() << why;
    Bundle b(json{"/bin/true"}, json{{"annotations", {{"io.aurora-jail.policy", "noseccomp"}}},
                                      {"linux", {{"seccomp", mkdir_profile()}}}});
    const std::string policies = b.dir() + "/policies";
    fs::create_directory(policies);
    std::ofstream(policies + "/noseccomp.json") << json{{"blocked_syscalls", {"seccomp"}}}.dump();
    ProcessResult r = run_process({"/usr/bin/env", "AURORA_JAIL_POLICY_DIR=" + policies, runc_bin(), "--root",
                                   b.state_root(), "create", "--bundle", b.path(), "--pid-file", b.dir() + "/pid", "nosc"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("config.json: linux.seccomp: the container's aurora-jail policy refuses seccomp(2)"),
              std::string::npos)
        << r.err;
    EXPECT_FALSE(fs::exists(b.state_root() + "/nosc"));
}

TEST(OciRunc, ExecRefusesWhatIsNotRunningAndReportsAMissingCommand) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    ExecFixture f;
    const std::string process = f.process_file({"/bin/true"});
    ProcessResult none = runc(f.b, {"exec", "--process", process, "nope"});
    EXPECT_EQ(none.exit_code, 1);
    EXPECT_NE(none.err.find("container does not exist"), std::string::npos) << none.err;
    ASSERT_EQ(create(f.b, "cr", f.b.dir() + "/pid").exit_code, 0);
    ProcessResult created = runc(f.b, {"exec", "--process", process, "cr"});
    EXPECT_EQ(created.exit_code, 1);
    EXPECT_NE(created.err.find("container not running"), std::string::npos) << created.err;
    EXPECT_EQ(runc(f.b, {"delete", "--force", "cr"}).exit_code, 0);
    ASSERT_GT(f.run("mi"), 0);
    ProcessResult missing = f.exec({"no-such-command"});
    EXPECT_EQ(missing.exit_code, 1);
    EXPECT_NE(missing.err.find("exec: \"no-such-command\": executable file not found in $PATH"), std::string::npos)
        << missing.err;
    // runc's words: a terminal needs a console socket, a console socket a terminal; nothing runs.
    ProcessResult tty = runc(f.b, {"exec", "--tty", "--process", process, "mi"});
    EXPECT_EQ(tty.exit_code, 1);
    EXPECT_NE(tty.err.find("cannot allocate tty if runc will detach without setting console socket"),
              std::string::npos)
        << tty.err;
    ProcessResult in_json = runc(f.b, {"exec", "--process", f.process_file({"/bin/true"}, json{{"terminal", true}}), "mi"});
    EXPECT_EQ(in_json.exit_code, 1);
    EXPECT_NE(in_json.err.find("cannot allocate tty if runc will detach without setting console socket"),
              std::string::npos)
        << in_json.err;
    ProcessResult socket_only =
        runc(f.b, {"exec", "--console-socket", f.b.dir() + "/no.sock", "--process", process, "mi"});
    EXPECT_EQ(socket_only.exit_code, 1);
    EXPECT_NE(socket_only.err.find("cannot use console socket if runc will not detach or allocate tty"),
              std::string::npos)
        << socket_only.err;
    EXPECT_EQ(runc(f.b, {"kill", "mi", "KILL"}).exit_code, 0);
    EXPECT_TRUE(wait_status(f.b, "mi", "stopped"));
    ProcessResult stopped = runc(f.b, {"exec", "--process", process, "mi"});
    EXPECT_EQ(stopped.exit_code, 1);
    EXPECT_NE(stopped.err.find("container not running"), std::string::npos) << stopped.err;
}

// An engine's console socket (conmon's, containerd's shim's): a unix stream socket the
// runtime connects to, once, to send the master of the container's terminal.
class ConsoleSocket {
public:
    explicit ConsoleSocket(const std::string& path) : path_(path) {
        fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un sun{};
        sun.sun_family = AF_UNIX;
        if (fd_ < 0 || path.size() >= sizeof sun.sun_path) throw std::runtime_error("console socket " + path);
        std::memcpy(sun.sun_path, path.c_str(), path.size() + 1);
        if (::bind(fd_, reinterpret_cast<const sockaddr*>(&sun), sizeof sun) != 0 || ::listen(fd_, 1) != 0)
            throw std::runtime_error("binding " + path + ": " + std::strerror(errno));
    }
    ~ConsoleSocket() { ::close(fd_); }
    ConsoleSocket(const ConsoleSocket&) = delete;
    ConsoleSocket& operator=(const ConsoleSocket&) = delete;
    const std::string& path() const { return path_; }

    // The one descriptor of the first connection's message (-1: none within 20 s, or not
    // exactly one); `name` gets the message's bytes.
    int receive(std::string& name) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 20000) != 1) return -1;
        const int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (conn < 0) return -1;
        std::vector<sys::UniqueFd> fds;
        try {
            name = runner::recv_with_fds(conn, 4096, fds, "reading the console socket");
        } catch (const std::exception&) {
            fds.clear();
        }
        ::close(conn);
        return !name.empty() && fds.size() == 1 ? fds[0].release() : -1;
    }

private:
    std::string path_;
    int fd_ = -1;
};

// create with --console-socket, stdin and stdout on /dev/null, stderr in DIR/create.err.
int create_with_console(const Bundle& b, const std::string& id, const std::string& socket) {
    const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    const int err = ::open((b.dir() + "/create.err").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const int rc = run_with_stdio({runc_bin(), "--root", b.state_root(), "create", "--bundle", b.path(),
                                   "--console-socket", socket, id},
                                  null, null, err);
    ::close(null);
    ::close(err);
    return rc;
}

// Everything read from `fd` until EIO/EOF (the terminal's last slave closed) or 20 s.
std::string read_until_hangup(int fd) {
    std::string out;
    char buf[4096];
    for (int waited = 0; waited < 200;) {
        pollfd p{fd, POLLIN, 0};
        const int r = ::poll(&p, 1, 100);
        if (r == 0) {
            ++waited;
            continue;
        }
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

// The bundle's config with process.terminal, its size, and a devpts at /dev/pts in a
// listed /dev (as every engine lists them: the sandbox's own /dev, mounted after the
// listed file systems, would cover a devpts listed without it).
void give_a_devpts(const Bundle& b, bool terminal, const json& console_size) {
    json config = json::parse(slurp(b.path() + "/config.json"));
    if (terminal) config["process"]["terminal"] = true;
    if (!console_size.is_null()) config["process"]["consoleSize"] = console_size;
    config["mounts"].push_back(
        {{"destination", "/dev"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"nosuid", "mode=755"}}});
    config["mounts"].push_back({{"destination", "/dev/pts"},
                                {"type", "devpts"},
                                {"source", "devpts"},
                                {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}});
    std::ofstream(b.path() + "/config.json") << config.dump(2);
}
// The owner a terminal of give_a_devpts's devpts has, for a process with `uid` and `gid`:
// the devpts's gid=5 (the tty group) where the container maps it (a root caller's block),
// else the process's gid.
std::string terminal_owner(int uid, int gid) {
    return std::to_string(uid) + " " + std::to_string(running_as_root() ? 5 : gid);
}
void give_a_terminal(const Bundle& b, const json& console_size) { give_a_devpts(b, true, console_size); }

// podman run -t's path: the engine listens on a console socket, create sends it the master
// of a terminal of the container's own devpts, the engine types into it.
TEST(OciRunc, TheTerminalsMasterGoesToTheConsoleSocket) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    Bundle b(json{"/bin/sh"});
    give_a_terminal(b, json{{"height", 33}, {"width", 111}});
    ConsoleSocket console(b.dir() + "/console.sock");
    ASSERT_EQ(create_with_console(b, "tty", console.path()), 0) << slurp(b.dir() + "/create.err");
    std::string name;
    const int master = console.receive(name);
    ASSERT_GE(master, 0) << "no master (exactly one descriptor) came over the console socket";
    EXPECT_FALSE(name.empty());
    // A terminal of the container's own devpts instance: not the host's.
    struct stat ours {}, hosts {};
    ASSERT_EQ(::fstat(master, &ours), 0);
    if (::stat("/dev/pts/ptmx", &hosts) == 0) {
        EXPECT_NE(ours.st_dev, hosts.st_dev);
    }
    EXPECT_EQ(state(b, "tty").value("status", ""), "created");
    ASSERT_EQ(runc(b, {"start", "tty"}).exit_code, 0);
    const std::string typed = "tty; stty size; stat -c 'owner %u %g' $(tty); exit 5\n";
    ASSERT_EQ(::write(master, typed.data(), typed.size()), static_cast<ssize_t>(typed.size()));
    const std::string out = read_until_hangup(master);
    ::close(master);
    // Its own line, after the prompt or the echoed input (which never names it).
    EXPECT_NE(out.find("/dev/pts/0\r\n"), std::string::npos) << out;
    EXPECT_NE(out.find("\n33 111\r\n"), std::string::npos) << out;
    EXPECT_NE(out.find("\nowner " + terminal_owner(65534, 65534) + "\r\n"), std::string::npos) << out;
    EXPECT_TRUE(wait_status(b, "tty", "stopped"));
    // The monitor records the status once PID 1 has reported (after the status turned stopped).
    EXPECT_TRUE(wait_file(b.state_root() + "/tty/exit.json"));
    EXPECT_EQ(read_json(b.state_root() + "/tty/exit.json").value("exit_code", -1), 5);
    EXPECT_EQ(runc(b, {"delete", "tty"}).exit_code, 0);
}

// containerd's shim reads create's output to EOF before it takes the console: a monitor
// holding create's stdout for the container's life would leave it waiting forever.
TEST(OciRunc, ATerminalContainerHoldsNothingOfCreatesStdio) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    Bundle b(json{"/bin/true"});
    give_a_terminal(b, json());
    ConsoleSocket console(b.dir() + "/console.sock");
    int out[2];
    ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
    const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    const int rc = run_with_stdio({runc_bin(), "--root", b.state_root(), "create", "--bundle", b.path(),
                                   "--console-socket", console.path(), "held"},
                                  null, out[1], out[1]);
    ::close(out[1]);
    ::close(null);
    EXPECT_EQ(rc, 0);
    std::string name;
    const int master = console.receive(name);
    EXPECT_GE(master, 0);
    // Only create's output, then EOF: nothing of the container holds the pipe.
    std::string output;
    char buf[4096];
    bool eof = false;
    for (pollfd p{out[0], POLLIN, 0}; ::poll(&p, 1, 10000) == 1;) {
        const ssize_t n = ::read(out[0], buf, sizeof buf);
        if (n <= 0) {
            eof = true;
            break;
        }
        output.append(buf, static_cast<std::size_t>(n));
    }
    EXPECT_TRUE(eof) << "create's stdout is still held after create returned: " << output;
    ::close(out[0]);
    if (master >= 0) ::close(master);
    EXPECT_EQ(runc(b, {"delete", "--force", "held"}).exit_code, 0);
}

TEST(OciRunc, ATerminalAndAConsoleSocketComeTogether) {
    if (const char* why = no_runc()) GTEST_SKIP() << why;
    {
        Bundle b(json{"/bin/true"});
        give_a_terminal(b, json());
        ProcessResult r = create(b, "noconsole", b.dir() + "/pid");
        EXPECT_EQ(r.exit_code, 1);
        EXPECT_NE(r.err.find("cannot allocate tty if runc will detach without setting console socket"),
                  std::string::npos)
            << r.err;
        EXPECT_FALSE(fs::exists(b.state_root() + "/noconsole"));
    }
    {
        Bundle b(json{"/bin/true"});
        ConsoleSocket console(b.dir() + "/console.sock");
        EXPECT_EQ(create_with_console(b, "noterminal", console.path()), 1);
        EXPECT_NE(slurp(b.dir() + "/create.err").find("cannot use console socket if runc will not detach or allocate tty"),
                  std::string::npos)
            << slurp(b.dir() + "/create.err");
        EXPECT_FALSE(fs::exists(b.state_root() + "/noterminal"));
    }
}

// run in the foreground keeps the terminal itself (runc's mode): a console socket there
// is refused in runc's words, before anything is made.
TEST(OciRunc, RunInTheForegroundTakesNoConsoleSocket) {
    if (const char* why = no_runc()) GTEST_SKIP() << why;
    Bundle b(json{"/bin/true"});
    give_a_terminal(b, json());
    ConsoleSocket console(b.dir() + "/console.sock");
    ProcessResult socket = runc(b, {"run", "--console-socket", console.path(), "--bundle", b.path(), "tty"});
    EXPECT_EQ(socket.exit_code, 1);
    EXPECT_NE(socket.err.find("cannot use console socket if runc will not detach or allocate tty"), std::string::npos)
        << socket.err;
    EXPECT_FALSE(fs::exists(b.state_root() + "/tty"));
}

// What `fd` gives until `want` is in it (or `seconds` passed, or EOF/EIO).
std::string read_until(int fd, const std::string& want, std::string& got, int seconds = 20) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (got.find(want) == std::string::npos && std::chrono::steady_clock::now() < until) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 100) != 1) continue;
        char buf[512];
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        got.append(buf, static_cast<std::size_t>(n));
    }
    return got;
}

// run in the foreground with process.terminal (runc's own mode, no console socket): the
// process runs on a terminal of the container's own devpts which run relays to its stdio
// (here a host terminal): the caller's window size, keys typed reach the process, Ctrl-C
// is the container's line discipline's SIGINT; the caller's terminal is raw meanwhile and
// restored after, and nothing is left (the state, run's console socket).
TEST(OciRunc, RunInTheForegroundRelaysTheContainersTerminal) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    const sys::UniqueFd host_master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!host_master || ::grantpt(host_master.get()) != 0 || ::unlockpt(host_master.get()) != 0)
        GTEST_SKIP() << "no host pseudo-terminal: " << std::strerror(errno);
    const sys::UniqueFd host_slave(::open(::ptsname(host_master.get()), O_RDWR | O_NOCTTY | O_CLOEXEC));
    ASSERT_TRUE(host_slave);
    const winsize size{33, 99, 0, 0};
    ASSERT_EQ(::ioctl(host_slave.get(), TIOCSWINSZ, &size), 0);
    auto canonical = [&] {
        termios t{};
        return ::tcgetattr(host_slave.get(), &t) == 0 && (t.c_lflag & ICANON) != 0;
    };
    ASSERT_TRUE(canonical());

    Bundle b(json{"/bin/sh", "-c", "tty; stty size; read x; echo got:$x; exec sleep 100"});
    give_a_terminal(b, json());
    const sys::UniqueFd err(::open((b.dir() + "/run.err").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    ASSERT_TRUE(err);
    const pid_t run = spawn_with_stdio({runc_bin(), "--root", b.state_root(), "run", "--bundle", b.path(), "tty"},
                                       host_slave.get(), host_slave.get(), err.get());
    ASSERT_GT(run, 0);
    std::string out;
    read_until(host_master.get(), "33 99", out);
    EXPECT_NE(out.find("/dev/pts/0"), std::string::npos) << out << slurp(b.dir() + "/run.err");
    EXPECT_NE(out.find("33 99"), std::string::npos) << out << slurp(b.dir() + "/run.err");
    EXPECT_FALSE(canonical()) << "run left its terminal in canonical mode";
    ASSERT_EQ(::write(host_master.get(), "hello\r", 6), 6);
    read_until(host_master.get(), "got:hello", out);
    EXPECT_NE(out.find("got:hello"), std::string::npos) << out;
    ASSERT_EQ(::write(host_master.get(), "\x03", 1), 1);  // Ctrl-C
    const std::optional<int> ended = wait_run(run, b, "tty");
    ASSERT_TRUE(ended) << "Ctrl-C did not end the container's process: " << out;
    const int status = *ended;
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 130) << status << " " << slurp(b.dir() + "/run.err");
    EXPECT_TRUE(canonical()) << "run did not restore its terminal";
    EXPECT_EQ(fs::directory_iterator(b.state_root()), fs::directory_iterator()) << "run left something in --root";
}

// The host devpts's device number, and every fd of the container's processes (those in
// PID 1's pid namespace) that is on it.
std::vector<std::string> fds_on_device(pid_t pid1, dev_t device) {
    std::vector<std::string> found;
    std::error_code ec;
    const fs::path ns = fs::read_symlink("/proc/" + std::to_string(pid1) + "/ns/pid", ec);
    if (ec) return {"(PID 1 is gone)"};
    for (const auto& proc : fs::directory_iterator("/proc", ec)) {
        const std::string pid = proc.path().filename();
        if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
        std::error_code e;
        if (fs::read_symlink(proc.path() / "ns" / "pid", e) != ns || e) continue;
        for (const auto& fd : fs::directory_iterator(proc.path() / "fd", e)) {
            struct stat st {};
            if (::stat(fd.path().c_str(), &st) == 0 && st.st_dev == device)
                found.push_back(fd.path().string() + " -> " + fs::read_symlink(fd.path(), e).string());
        }
    }
    return found;
}

// issue 11 item 4 for containers: an engine whose own stdio is a terminal of the host
// (podman run -it from a shell) hands the container nothing of it. The container's
// processes hold no fd of the host's devpts, and TIOCSTI on the container's terminal
// puts nothing into the host's.
TEST(OciRunc, NoHostTerminalReachesATerminalContainer) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    const int host_master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (host_master < 0 || ::grantpt(host_master) != 0 || ::unlockpt(host_master) != 0)
        GTEST_SKIP() << "no host pseudo-terminal: " << std::strerror(errno);
    const int host_slave = ::open(::ptsname(host_master), O_RDWR | O_NOCTTY | O_CLOEXEC);
    ASSERT_GE(host_slave, 0);
    termios raw{};
    ASSERT_EQ(::tcgetattr(host_slave, &raw), 0);
    ::cfmakeraw(&raw);
    ASSERT_EQ(::tcsetattr(host_slave, TCSANOW, &raw), 0);
    struct stat host_pts {};
    ASSERT_EQ(::fstat(host_slave, &host_pts), 0);

    Bundle b(json{"/bin/sh", "-c",
                  "python3 -c 'import fcntl, termios; fcntl.ioctl(0, termios.TIOCSTI, b\"X\")' 2>/out/tiocsti.err;"
                  " echo $? >/out/tiocsti; exec sleep 30"});
    give_a_terminal(b, json());
    ConsoleSocket console(b.dir() + "/console.sock");
    // The engine's stdin, stdout and stderr: the host's terminal.
    ASSERT_EQ(run_with_stdio({runc_bin(), "--root", b.state_root(), "create", "--bundle", b.path(),
                              "--console-socket", console.path(), "hosttty"},
                             host_slave, host_slave, host_slave),
              0);
    std::string name;
    const int master = console.receive(name);
    ASSERT_GE(master, 0);
    ASSERT_EQ(runc(b, {"start", "hosttty"}).exit_code, 0);
    ASSERT_TRUE(wait_file(b.out() + "/tiocsti"));
    const pid_t pid1 = state(b, "hosttty").value("pid", 0);
    ASSERT_GT(pid1, 0);
    EXPECT_EQ(fds_on_device(pid1, host_pts.st_dev), std::vector<std::string>{})
        << "a process of the container holds a terminal of the host's devpts";
    // The seccomp policy refuses TIOCSTI anyway; whatever it did, nothing reached the host's terminal.
    EXPECT_NE(slurp(b.out() + "/tiocsti"), "0\n") << slurp(b.out() + "/tiocsti.err");
    char c = 0;
    const int flags = ::fcntl(host_slave, F_GETFL);
    ::fcntl(host_slave, F_SETFL, flags | O_NONBLOCK);
    EXPECT_EQ(::read(host_slave, &c, 1), -1) << "the host's terminal got input: " << c;
    EXPECT_EQ(errno, EAGAIN);
    EXPECT_EQ(runc(b, {"delete", "--force", "hosttty"}).exit_code, 0);
    ::close(master);
    ::close(host_slave);
    ::close(host_master);
}

// exec --tty --console-socket S (podman exec -it, ctr task exec -t): the exec'd process
// runs on a new terminal of the container's own devpts, whose master reaches the engine's
// socket, and owns it; without --detach exec waits and exits with the process's status.
TEST(OciRunc, ExecOnATerminalGivesItsMasterToTheConsoleSocket) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    ExecFixture f;
    give_a_devpts(f.b, false, json());
    ASSERT_GT(f.run("etty"), 0);
    ConsoleSocket console(f.b.dir() + "/console.sock");
    // A root caller's container maps a block: ids other than the overflow id 65534, which
    // is what a terminal the container does not map shows as.
    const json user = running_as_root() ? json{{"uid", 7}, {"gid", 8}} : json{{"uid", 65534}, {"gid", 65534}};
    const std::string owner = terminal_owner(user["uid"].get<int>(), user["gid"].get<int>());
    const std::string process =
        f.process_file({"/bin/sh"}, json{{"consoleSize", {{"height", 21}, {"width", 77}}}, {"user", user}});
    const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    const int err = ::open((f.b.dir() + "/exec.err").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const pid_t exec = spawn_with_stdio({runc_bin(), "--root", f.b.state_root(), "exec", "--tty", "--console-socket",
                                         console.path(), "--process", process, "etty"},
                                        null, null, err);
    ASSERT_GE(exec, 0);
    ::close(null);
    ::close(err);
    std::string name;
    const int master = console.receive(name);
    if (master < 0) (void)::kill(exec, SIGKILL);
    ASSERT_GE(master, 0) << "no master came over the console socket: " << slurp(f.b.dir() + "/exec.err");
    struct stat ours {}, hosts {};
    ASSERT_EQ(::fstat(master, &ours), 0);
    if (::stat("/dev/pts/ptmx", &hosts) == 0) {
        EXPECT_NE(ours.st_dev, hosts.st_dev) << "a terminal of the host's devpts";
    }
    const std::string typed = "tty; stty size; stat -c 'owner %u %g' $(tty); exit 3\n";
    ASSERT_EQ(::write(master, typed.data(), typed.size()), static_cast<ssize_t>(typed.size()));
    const std::string out = read_until_hangup(master);
    ::close(master);
    // PID 1 has no terminal: the exec'd process's is the instance's first.
    EXPECT_NE(out.find("/dev/pts/0\r\n"), std::string::npos) << out;
    EXPECT_NE(out.find("\n21 77\r\n"), std::string::npos) << out;
    EXPECT_NE(out.find("\nowner " + owner + "\r\n"), std::string::npos) << "the terminal is not the process's: " << out;
    int status = 0;
    ASSERT_EQ(::waitpid(exec, &status, 0), exec);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 3) << slurp(f.b.dir() + "/exec.err");
}

// issue 11 item 4 for exec: an engine whose stdio is a host terminal (podman exec -it from
// a shell) hands the exec'd process nothing of it: no fd of the host's devpts, and its
// controlling terminal is the container's.
TEST(OciRunc, NoHostTerminalReachesAnExecOnATerminal) {
    if (const char* why = no_sandbox()) GTEST_SKIP() << why;
    const int host_master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (host_master < 0 || ::grantpt(host_master) != 0 || ::unlockpt(host_master) != 0)
        GTEST_SKIP() << "no host pseudo-terminal: " << std::strerror(errno);
    const int host_slave = ::open(::ptsname(host_master), O_RDWR | O_NOCTTY | O_CLOEXEC);
    ASSERT_GE(host_slave, 0);
    struct stat host_pts {};
    ASSERT_EQ(::fstat(host_slave, &host_pts), 0);
    ExecFixture f;
    give_a_devpts(f.b, false, json());
    const pid_t pid1 = f.run("ehost");
    ASSERT_GT(pid1, 0);
    ConsoleSocket console(f.b.dir() + "/console.sock");
    const std::string pid_file = f.b.dir() + "/exec.pid";
    ASSERT_EQ(run_with_stdio({runc_bin(), "--root", f.b.state_root(), "exec", "--detach", "--tty", "--console-socket",
                              console.path(), "--pid-file", pid_file, "--process",
                              f.process_file({"/bin/sh", "-c", "echo started > /out/started; exec sleep 30"}), "ehost"},
                             host_slave, host_slave, host_slave),
              0);
    std::string name;
    const int master = console.receive(name);
    ASSERT_GE(master, 0);
    ASSERT_TRUE(wait_file(f.b.out() + "/started"));
    const pid_t exec = static_cast<pid_t>(std::strtol(slurp(pid_file).c_str(), nullptr, 10));
    ASSERT_GT(exec, 0);
    EXPECT_EQ(fds_on_device(pid1, host_pts.st_dev), std::vector<std::string>{})
        << "a process of the container holds a terminal of the host's devpts";
    // A session of its own (stat's field 6 is its own pid), not the engine's, with a
    // controlling terminal (field 7): the container's, the only one its session could
    // take (the device numbers cannot tell: both instances number their first pts 136:0).
    std::string stat_line = slurp("/proc/" + std::to_string(exec) + "/stat");
    std::istringstream fields(stat_line.substr(stat_line.rfind(')') + 2));
    std::string session, ctty;
    for (int i = 3; i <= 5; ++i) fields >> session;
    fields >> session >> ctty;
    EXPECT_EQ(session, std::to_string(exec)) << "the exec'd process is in its caller's session";
    EXPECT_NE(ctty, "0") << "no controlling terminal";
    ::close(master);
    EXPECT_EQ(runc(f.b, {"delete", "--force", "ehost"}).exit_code, 0);
    ::close(host_slave);
    ::close(host_master);
}

}  // namespace
}  // namespace aj::test
