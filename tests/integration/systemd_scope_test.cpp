// join_delegated_scope() where systemd cannot give a scope: no libsystemd.so.0 (loaded
// only when a scope is asked for, never at start), no bus at all (this host, a container,
// a user without a session) and a bus on which no systemd answers. Each must leave the
// process where it was and say why; the scope itself is tested under real systemd by
// ctest vm.systemd.
#include <gtest/gtest.h>

#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "helper/libsystemd_loader.hpp"
#include "helper/systemd_scope.hpp"
#include "policy/sys.hpp"
#include "tests/support/process.hpp"

extern char** environ;

namespace {

// Points both bus addresses (user and system: which one is asked depends on the uid)
// at `address` for the test's lifetime.
class BusAddress {
public:
    explicit BusAddress(const std::string& address) {
        for (const char* name : {"DBUS_SESSION_BUS_ADDRESS", "DBUS_SYSTEM_BUS_ADDRESS"}) {
            const char* old = std::getenv(name);
            saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
            ::setenv(name, address.c_str(), 1);
        }
    }
    ~BusAddress() {
        for (const auto& [name, value] : saved_) {
            if (value) ::setenv(name.c_str(), value->c_str(), 1);
            else ::unsetenv(name.c_str());
        }
    }
    BusAddress(const BusAddress&) = delete;
    BusAddress& operator=(const BusAddress&) = delete;

private:
    std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// A private dbus-daemon on a socket in `dir`, killed (by its pid) at the end.
class PrivateBus {
public:
    explicit PrivateBus(const std::string& dir) : socket_(dir + "/bus") {
        std::string address = "--address=unix:path=" + socket_;
        const char* argv[] = {"dbus-daemon", "--session", "--nofork", "--nopidfile", address.c_str(), nullptr};
        if (::posix_spawnp(&pid_, "dbus-daemon", nullptr, nullptr, const_cast<char**>(argv), environ) != 0) pid_ = -1;
        for (int i = 0; pid_ > 0 && i < 200 && !ready(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ~PrivateBus() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
    PrivateBus(const PrivateBus&) = delete;
    PrivateBus& operator=(const PrivateBus&) = delete;
    bool ready() const {
        struct stat st {};
        return ::stat(socket_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
    }
    std::string address() const { return "unix:path=" + socket_; }

private:
    std::string socket_;
    pid_t pid_ = -1;
};

std::string own_cgroups() { return aj::sys::read_file("/proc/self/cgroup"); }

bool libsystemd_mapped() { return aj::sys::read_file("/proc/self/maps").find("libsystemd.so") != std::string::npos; }

// In a child with its own user and mount namespace in which empty tmpfs hide every
// directory the loader could find libsystemd.so.0 in: join_delegated_scope()'s why_not,
// or what went wrong setting that up ("setup: ...").
std::string why_not_without_libsystemd() {
    int fds[2];
    if (::pipe(fds) != 0) return "setup: pipe failed";
    const pid_t pid = ::fork();
    if (pid < 0) return "setup: fork failed";
    if (pid == 0) {
        ::close(fds[0]);
        std::string out;
        if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
            out = "setup: unshare: " + std::to_string(errno);
        } else if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
            out = "setup: making / private: " + std::to_string(errno);
        } else {
            // /lib is /usr/lib on a merged-/usr system: mount over what each resolves to.
            for (const char* dir : {"/usr/local/lib", "/usr/lib", "/lib", "/lib64", "/usr/lib64"}) {
                char real[PATH_MAX];
                struct stat st {};
                if (!::realpath(dir, real) || ::stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) continue;
                if (::mount("tmpfs", real, "tmpfs", MS_NOSUID | MS_NODEV, "size=4k") != 0 && errno != EBUSY)
                    out = std::string("setup: tmpfs over ") + real + ": " + std::to_string(errno);
            }
            ::unsetenv("LD_LIBRARY_PATH");
            if (out.empty()) out = aj::helper::join_delegated_scope().why_not;
        }
        (void)!::write(fds[1], out.data(), out.size());
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string text;
    char buf[512];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return text;
}

}  // namespace

// Every aurora-jail start used to map libsystemd and the five libraries it needs; it is
// now loaded only where a scope is asked for. First in this file: the process has not
// asked for one yet.
TEST(SystemdScope, LibsystemdIsLoadedOnlyWhenAScopeIsAskedFor) {
    EXPECT_FALSE(libsystemd_mapped()) << "this test process mapped libsystemd before any scope was asked for";
    const aj::test::ProcessResult ldd = aj::test::run_process({aj::test::aj_bin()}, "", {"LD_TRACE_LOADED_OBJECTS=1"});
    ASSERT_EQ(ldd.exit_code, 0) << ldd.err;
    EXPECT_NE(ldd.out.find("libc.so"), std::string::npos) << ldd.out;
    EXPECT_EQ(ldd.out.find("libsystemd"), std::string::npos) << "aurora-jail links libsystemd:\n" << ldd.out;
}

TEST(SystemdScope, WithoutLibsystemdTheScopeIsSkippedWithTheReason) {
    if (libsystemd_mapped()) GTEST_SKIP() << "an earlier test of this process loaded libsystemd";
    const std::string why = why_not_without_libsystemd();
    if (why.rfind("setup: ", 0) == 0) GTEST_SKIP() << "the library cannot be hidden here (user and mount namespace): " << why;
    EXPECT_EQ(why.rfind("systemd scope: libsystemd.so.0 not found (", 0), 0u) << why;
}

TEST(SystemdScope, TheLoaderNamesAMissingLibraryAndResolvesTheRealOne) {
    std::string why;
    EXPECT_EQ(aj::helper::LibSystemd::load("libaurora-jail-no-such.so.0", why), nullptr);
    EXPECT_EQ(why.rfind("libaurora-jail-no-such.so.0 not found (", 0), 0u) << why;
    why.clear();
    std::unique_ptr<aj::helper::LibSystemd> lib = aj::helper::LibSystemd::load(aj::helper::kLibSystemdSoname, why);
    if (!lib) GTEST_SKIP() << "libsystemd0 is not installed here: " << why;
    EXPECT_TRUE(why.empty()) << why;
    EXPECT_NE(lib->bus_open_user, nullptr);
    EXPECT_NE(lib->error_is_set, nullptr);
}

TEST(SystemdScope, NoBusLeavesTheProcessWhereItWasAndSaysWhy) {
    aj::test::TempDir dir;
    BusAddress bus("unix:path=" + dir.path() + "/no-such-bus");
    const std::string before = own_cgroups();
    aj::helper::SystemdScope scope = aj::helper::join_delegated_scope();
    EXPECT_TRUE(scope.unit.empty()) << scope.unit;
    const std::string manager = ::geteuid() == 0 ? "system" : "user";
    EXPECT_EQ(scope.manager, manager);
    EXPECT_NE(scope.why_not.find("systemd scope: no " + manager + " bus"), std::string::npos) << scope.why_not;
    EXPECT_NE(scope.why_not.find("ENOENT"), std::string::npos) << scope.why_not;
    EXPECT_EQ(own_cgroups(), before);
}

TEST(SystemdScope, ABusWithoutSystemdRefusesTheScope) {
    aj::test::TempDir dir;
    PrivateBus daemon(dir.path());
    if (!daemon.ready()) GTEST_SKIP() << "no dbus-daemon could be started here (package dbus)";
    BusAddress bus(daemon.address());
    const std::string before = own_cgroups();
    aj::helper::SystemdScope scope = aj::helper::join_delegated_scope();
    EXPECT_TRUE(scope.unit.empty()) << scope.unit;
    // The call reached the bus, which knows no org.freedesktop.systemd1 and, asked not to
    // start one (the session bus would spawn systemd through its activation files), says so.
    EXPECT_NE(scope.why_not.find("refused StartTransientUnit aurora-jail-" + std::to_string(::getpid()) + "-"),
              std::string::npos)
        << scope.why_not;
    EXPECT_NE(scope.why_not.find("org.freedesktop.DBus.Error.NameHasNoOwner"), std::string::npos) << scope.why_not;
    EXPECT_EQ(own_cgroups(), before);
}
