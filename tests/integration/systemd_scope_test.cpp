// join_delegated_scope() where systemd cannot give a scope: no bus at all (this host, a
// container, a user without a session) and a bus on which no systemd answers. Both must
// leave the process where it was and say why; the scope itself is tested under real
// systemd by ctest vm.systemd.
#include <gtest/gtest.h>

#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

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

}  // namespace

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
