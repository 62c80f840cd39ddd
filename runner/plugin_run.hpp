// What `run --plugin ID` and `run --detach` add to a sandboxed run. The run command calls
// these; they own the plugin store, run directories and background supervision.
//
// Inside a plugin run (also in DESIGN.md terms):
//   /plugin   the staged package, read-only (the manifest's entrypoint runs as /plugin/PATH)
//   /work     this run's own fresh directory, read-write, the cwd; on the host it is
//             STATE/runs/RUN_ID/work. Nothing is ever copied back into the package.
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
    PluginRunScope(const std::string& state_dir, const std::string& plugin_id,
                   const std::string& run_id, bool remove_after);
    ~PluginRunScope();
    PluginRunScope(const PluginRunScope&) = delete;
    PluginRunScope& operator=(const PluginRunScope&) = delete;

    // `cmd` when given, else the manifest's entrypoint (plugin runs), else `cmd`.
    std::vector<std::string> argv(const std::vector<std::string>& cmd) const;
    // The policy file the manifest names (looked up in STATE/policies, then the usual
    // policy directories), or "" for the default; `explicit_policy` (--policy) wins.
    std::string policy_spec(const std::string& explicit_policy) const;
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
    sys::UniqueFd disposable_;  // RunRegistry::create_disposable_run's lock, with remove_after
};

// The policy file a plugin's manifest names (STATE/policies first, then the usual policy
// directories), or "" when it names none (the built-in default applies).
std::string plugin_policy_file(const StateDir& state, const Manifest& manifest);

// `run --detach`: creates the run (record + directory), starts `body(run_id, report_path)`
// in a detached supervisor, prints the run id on stdout and returns 0 at once.
int run_detached(const std::string& state_dir, const std::string& plugin_id,
                 const std::vector<std::string>& argv,
                 const std::function<int(const std::string& run_id, const std::string& report_path)>& body);

}  // namespace aj::runner
