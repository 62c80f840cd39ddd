// Test support for real sandboxes: a test policy that can run this very test binary
// inside the jail as a probe (see tests/probes/probes.cpp), and a spawn that lets a test
// signal aurora-jail while it runs or give it a terminal.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/process.hpp"

namespace aj::test {

// Absolute path of the running test binary, and its directory.
std::string self_exe();
std::string self_dir();

// A policy JSON that allows the system directories read-only plus self_exe() (so the
// test binary can run inside as a probe), no memory rlimit (sanitizer builds reserve a lot
// of address space), and whatever `extra` adds or overrides. Extra allowed_paths entries
// in `extra` are appended. Returns the file's path inside `dir`.
std::string write_policy(const TempDir& dir, const nlohmann::json& extra = nlohmann::json::object(),
                         const std::string& name = "policy.json");

// argv for: aurora-jail run --policy POLICY [options...] -- SELF --aj-probe PROBE args...
std::vector<std::string> probe_args(const std::string& policy, const std::string& probe,
                                    const std::vector<std::string>& args = {},
                                    const std::vector<std::string>& options = {});

// aurora-jail run --policy POLICY [options...] -- /bin/sh -c SCRIPT
std::vector<std::string> sh_args(const std::string& policy, const std::string& script,
                                 const std::vector<std::string>& options = {});

// aurora-jail running in the background, stdout and stderr captured through one pipe.
class Spawned {
public:
    // stdin_fd: the fd to give aurora-jail as stdin (-1: /dev/null). With new_session the
    // child becomes a session leader and stdin_fd (a tty) its controlling terminal.
    Spawned(const std::vector<std::string>& aj_args, int stdin_fd = -1, bool new_session = false);
    ~Spawned();
    Spawned(const Spawned&) = delete;
    Spawned& operator=(const Spawned&) = delete;

    pid_t pid() const { return pid_; }
    // Reads output until it contains `marker` or timeout; returns whether it did.
    bool wait_for(const std::string& marker, int timeout_sec = 20);
    // Waits for exit (killing it after timeout_sec); returns the exit code (128+N on signal).
    int wait(int timeout_sec = 30);
    const std::string& output() const { return output_; }

private:
    void read_some(int timeout_ms);
    pid_t pid_ = -1;
    int out_ = -1;
    std::string output_;
};

// argv run where no cgroup can be created, made for real: as root, in a mount namespace
// of its own whose cgroup file systems are unmounted (a host or container without
// cgroups); an ordinary user's argv unchanged (whether a cgroup is delegated to it the
// caller checks in the report).
std::vector<std::string> without_cgroups(std::vector<std::string> argv);

// A python3 program (for `python3 -c`) that forks 20 children sleeping 1 s each and
// waits for them; when a fork is refused it prints "fork refused after N STRERROR" and
// goes on waiting, so the refused count holds for a second.
inline constexpr const char* kPythonForks20 =
    "import os, time\n"
    "kids = []\n"
    "try:\n"
    "    for _ in range(20):\n"
    "        pid = os.fork()\n"
    "        if pid == 0:\n"
    "            time.sleep(1); os._exit(0)\n"
    "        kids.append(pid)\n"
    "except OSError as e:\n"
    "    print('fork refused after', len(kids), os.strerror(e.errno))\n"
    "[os.waitpid(k, 0) for k in kids]";

// Host pids whose /proc/PID/cmdline contains `needle` (NUL bytes shown as spaces).
std::vector<pid_t> pids_with_cmdline(const std::string& needle);

}  // namespace aj::test
