// One sandboxed run as `aurora-jail run` does it (cmd_run.cpp parses the command line into
// RunOptions), callable without the command line: the host daemon's launcher calls it for
// each request (runner/launcher.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "helper/launch.hpp"
#include "policy/policy.hpp"
#include "runner/cli_grants.hpp"

namespace aj::runner {

struct RunOptions {
    std::string policy;  // empty: the built-in default
    std::string policy_dir;
    // Already loaded (the launcher parses a request's policy once, to check the request
    // against it): used instead of `policy`/`policy_dir` and the plugin's own. Not owned.
    const policy::Policy* parsed_policy = nullptr;
    std::string workdir;
    std::uint64_t timeout_sec = 0;  // 0: the policy's
    std::uint64_t memory_mb = 0;    // 0: the policy's; else it may only be lowered (a queued request's)
    CliGrants grants;               // --bind, --ro-bind, --network, --memory, --cpus, --pids
    bool json = false;
    std::string report_file;
    int report_fd = -1;
    std::string command_name;
    std::vector<std::string> command;
    // --plugin / --detach / --rm (runner/plugin_run.hpp)
    std::string plugin;
    bool detach = false;
    bool require_isolation = false;  // never fall back to rlimit-only mode
    bool remove_run_dir = false;
    bool pass_stdio = false;  // the caller's own fds inside (weaker)
    std::string state_dir;
    std::string run_id;  // set for a background run
    // A background run's sandbox ids, leased (root caller) before its record was written.
    std::optional<helper::HostIds> host_ids;
    // Called once, with the sandbox built and before its command may start; throwing ends
    // the run with nothing untrusted having run (the host daemon waits here for its claim
    // to be durable).
    std::function<void()> before_command = nullptr;
    // Called after before_command: the command to run instead of `command` (none: keep
    // it), for a warm sandbox built before its request came (helper/launch.hpp's
    // argv_at_release). May be called again on a retried launch: must answer the same.
    std::function<std::optional<std::vector<std::string>>()> command_at_release = nullptr;
    // The caller holds the plugin (PluginStore::hold) itself, from before_command on: a
    // warm sandbox waiting for its request must not keep a new version from being staged
    // (the request then finds it stale and runs cold).
    bool plugin_held_by_caller = false;
    // Called with the exit code once the run's report is written and the sandbox is
    // over, before its teardown (the cgroup's removal, the run directory's with --rm,
    // the lease's release): the host daemon answers the request here, and a crash during
    // the teardown leaves only what the next start removes (runner/launcher.hpp). Not
    // called when the command could not be started (the run returns 126/127 at once).
    std::function<void(int exit_code)> after_report = nullptr;
};

// Runs the sandbox in the foreground and returns the command's exit code (124 on timeout);
// throws aj::Error for anything that stops it from starting. Must be called from a
// single-threaded process (launch() clones a new user namespace).
int run_sandbox(const RunOptions& options);

}  // namespace aj::runner
