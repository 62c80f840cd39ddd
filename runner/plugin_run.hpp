// What `run --plugin ID` and `run --detach` add to a sandboxed run. The run command calls
// these; they own the plugin store, run directories and background supervision.
//
// Inside a plugin run (docs/plugins.md, "Plugin runs"):
//   /plugin   the staged package, read-only (the manifest's entrypoint runs as /plugin/PATH)
//   /work     the cwd, read-write, starting with the package's files (so the prototype's
//             `sh run.sh` works): an overlayfs whose lower layer is the staged package and
//             whose upper layer is STATE/runs/RUN_ID/work, mounted by PID 1 in the
//             sandbox's user namespace, so nothing is copied and nothing reaches the store.
//             Where the kernel has no unprivileged overlayfs (before 5.11), the package is
//             copied into work/ instead, bounded like staging, as the sandbox's uid.
//             A root caller's sandbox can read the package's files and add new ones, but
//             the files it did not create stay root's (overlayfs copies up a file only for
//             an owner the sandbox's user namespace maps).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "helper/launch.hpp"
#include "runner/plugin_store.hpp"
#include "runner/run_registry.hpp"
#include "runner/state_dir.hpp"

namespace aj::runner {

// A plugin run's setup; a no-op when `plugin_id` is empty. With `remove_after` the run
// directory goes when this object does (the host daemon's runs: their output is in the
// response).
class PluginRunScope {
public:
    // The run directory's work/ is given to `sandbox` (the sandbox's host ids). Without
    // `hold`, the caller holds the plugin itself (PluginStore::hold) before the command
    // may start: a warm sandbox does, once its request came (runner/warm_pool.hpp).
    PluginRunScope(const std::string& state_dir, const std::string& plugin_id,
                   const std::string& run_id, bool remove_after, const helper::HostIds& sandbox, bool hold = true);
    ~PluginRunScope();
    PluginRunScope(const PluginRunScope&) = delete;
    PluginRunScope& operator=(const PluginRunScope&) = delete;

    // `cmd` when given, else the manifest's entrypoint (plugin runs), else `cmd`.
    std::vector<std::string> argv(const std::vector<std::string>& cmd) const;
    // The policy file the manifest names (looked up in STATE/policies, then the usual
    // policy directories), or "" for the default; `explicit_policy` (--policy) wins.
    std::string policy_spec(const std::string& explicit_policy) const;
    // Gives the run directory's work/ to these host ids (a no-op without a plugin).
    void give_work_dir(const helper::HostIds& sandbox) const;
    // Adds the /plugin and /work binds and the cwd.
    void apply(helper::LaunchRequest& request) const;
    // Adds "plugin", "run_id" and "run_dir" to a run report.
    void annotate(nlohmann::json& report) const;

private:
    std::optional<StateDir> state_;
    sys::UniqueFd hold_;  // PluginStore::hold(): the staged tree stays as it is while we run
    std::optional<StagedPlugin> plugin_;
    std::string run_id_;
    std::string run_dir_;
    bool remove_after_ = false;
    bool overlay_ = false;       // /work is an overlay (else the package was copied into work/)
    std::string overlay_work_;   // overlayfs's work directory, beside work/
    sys::UniqueFd disposable_;  // RunRegistry::create_disposable_run's lock, with remove_after
};

// The policy file a plugin's manifest names (STATE/policies first, then the usual policy
// directories), or "" when it names none (the built-in default applies).
std::string plugin_policy_file(const StateDir& state, const Manifest& manifest);

// `run --detach`: creates the run (record + directory), starts `body(run_id, report_path)`
// in a detached supervisor, prints the run id on stdout and returns 0 at once. `sandbox`
// (the host ids the run's sandbox will have) goes into the record; a root caller's lease
// on them is open in this process and so inherited by the supervisor.
int run_detached(const std::string& state_dir, const std::string& plugin_id,
                 const std::vector<std::string>& argv, const helper::HostIds& sandbox,
                 const std::function<int(const std::string& run_id, const std::string& report_path)>& body);

}  // namespace aj::runner
