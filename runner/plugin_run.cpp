#include "runner/plugin_run.hpp"

#include <fcntl.h>

#include <cstdio>

#include "helper/sys.hpp"
#include "policy/error.hpp"
#include "policy/store.hpp"
#include "runner/tree_copy.hpp"

namespace aj::runner {

PluginRunScope::PluginRunScope(const std::string& state_dir, const std::string& plugin_id,
                               const std::string& run_id, bool remove_after, const helper::HostIds& sandbox) {
    if (plugin_id.empty()) return;
    state_.emplace(resolve_state_dir(state_dir));
    const PluginStore store(*state_);
    hold_ = store.hold(plugin_id);
    plugin_ = store.find(plugin_id);
    RunRegistry runs(*state_);
    // A background run's directory exists already (its supervisor made the record). One
    // removed afterwards is made disposable: if this process is killed before it removes
    // the directory, the host daemon's next start does (remove_abandoned_runs).
    if (!run_id.empty()) run_id_ = run_id;
    else run_id_ = remove_after ? runs.create_disposable_run(disposable_) : runs.create_run();
    run_dir_ = runs.run_dir(run_id_);
    remove_after_ = remove_after;
    give_work_dir(sandbox);
}

PluginRunScope::~PluginRunScope() {
    if (!remove_after_ || run_id_.empty()) return;
    try {
        RunRegistry(*state_).remove(run_id_);
    } catch (const Error& e) {
        std::fprintf(stderr, "aurora-jail: removing run directory %s: %s\n", run_dir_.c_str(), e.what());
    }
}

void PluginRunScope::give_work_dir(const helper::HostIds& sandbox) const {
    if (!plugin_) return;
    RunRegistry(*state_).give_work_dir(run_id_, sandbox.uid, sandbox.gid);
}

std::vector<std::string> PluginRunScope::argv(const std::vector<std::string>& cmd) const {
    if (!cmd.empty() || !plugin_) return cmd;
    return entry_command(plugin_->manifest);
}

std::string plugin_policy_file(const StateDir& state, const Manifest& manifest) {
    if (!manifest.policy) return "";
    std::vector<std::string> dirs{state.policies()};
    for (auto& d : policy::policy_search_dirs("")) dirs.push_back(d);
    try {
        return policy::resolve_policy(*manifest.policy, dirs).path;
    } catch (const Error& e) {
        throw e.wrap("plugin " + manifest.id + " names policy " + *manifest.policy);
    }
}

std::string PluginRunScope::policy_spec(const std::string& explicit_policy) const {
    if (!explicit_policy.empty() || !plugin_) return explicit_policy;
    return plugin_policy_file(*state_, plugin_->manifest);
}

void PluginRunScope::apply(helper::LaunchRequest& request) const {
    if (!plugin_) return;
    request.extra_binds.push_back({plugin_->path, kPluginMount, policy::PathMode::ReadOnly});
    request.extra_binds.push_back({run_dir_ + "/work", kWorkMount, policy::PathMode::ReadWrite});
    request.cwd = kWorkMount;
}

void PluginRunScope::annotate(nlohmann::json& report) const {
    if (!plugin_) return;
    report["plugin"] = plugin_->manifest.id;
    report["plugin_version"] = plugin_->manifest.version;
    report["run_id"] = run_id_;
    if (!remove_after_) report["run_dir"] = run_dir_;
}

int run_detached(const std::string& state_dir, const std::string& plugin_id,
                 const std::vector<std::string>& argv, const helper::HostIds& sandbox,
                 const std::function<int(const std::string&, const std::string&)>& body) {
    StateDir state(resolve_state_dir(state_dir));
    if (!plugin_id.empty()) PluginStore(state).find(plugin_id);  // fail here, not in the log
    RunRegistry runs(state);
    RunRecord record;
    record.id = runs.create_run();
    record.plugin = plugin_id;
    record.argv = argv;
    record.host_uid = sandbox.uid;
    record.host_gid = sandbox.gid;
    std::string report = runs.run_dir(record.id) + "/report.json";
    std::string id = record.id;
    runs.start_detached(std::move(record), [&] { return body(id, report); });
    std::printf("%s\n", id.c_str());
    return 0;
}

}  // namespace aj::runner
