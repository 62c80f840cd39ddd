#include "runner/plugin_run.hpp"

#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "policy/sys.hpp"
#include "policy/error.hpp"
#include "policy/policy_dirs.hpp"
#include "policy/store.hpp"
#include "runner/tree_copy.hpp"

namespace aj::runner {

namespace {

// Unprivileged overlayfs (mounted inside a user namespace) exists from Linux 5.11 on.
// AURORA_JAIL_NO_OVERLAY=1 asks for the copy instead (both are safe; tests use it).
bool kernel_has_userns_overlay() {
    if (const char* off = std::getenv("AURORA_JAIL_NO_OVERLAY"); off && *off && std::string(off) != "0") return false;
    utsname u{};
    if (::uname(&u) != 0) return false;
    // "6.1.0-18-amd64": MAJOR.MINOR first.
    char* end = nullptr;
    errno = 0;
    const unsigned long major = std::strtoul(u.release, &end, 10);
    if (errno != 0 || end == u.release || *end != '.') return false;
    const char* minor_start = end + 1;
    const unsigned long minor = std::strtoul(minor_start, &end, 10);
    if (errno != 0 || end == minor_start) return false;
    return major > 5 || (major == 5 && minor >= 11);
}

// The package copied into the run's work/ (bounded like staging), by a child running as
// the sandbox's host uid: the copy belongs to the sandbox, and reads only what it could.
void copy_package_as_sandbox(const std::string& package, const std::string& work, const helper::HostIds& sandbox) {
    sys::Pipe errors = sys::make_pipe("creating the copy's error pipe");
    std::fflush(nullptr);
    pid_t child = ::fork();
    if (child < 0) throw_errno("fork to copy the package into the run directory");
    if (child == 0) {
        errors.read.reset();
        try {
            if (::geteuid() == 0) {
                sys::check(::setgroups(0, nullptr), "setgroups");
                sys::check(::setresgid(sandbox.gid, sandbox.gid, sandbox.gid), "setresgid");
                sys::check(::setresuid(sandbox.uid, sandbox.uid, sandbox.uid), "setresuid");
            }
            sys::UniqueFd src = sys::open_fd(package, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, "opening staged package");
            sys::UniqueFd dst = sys::open_fd(work, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, "opening run directory");
            copy_tree(src.get(), dst.get(), CopyLimits{});
            ::_exit(0);
        } catch (const std::exception& e) {
            std::string why = e.what();
            (void)!::write(errors.write.get(), why.data(), why.size());
        }
        ::_exit(kExitInternal);
    }
    errors.write.reset();
    std::string why = sys::read_all(errors.read.get(), 4096, "reading the copy's error");
    int status = 0;
    sys::retry_eintr([&] { return ::waitpid(child, &status, 0); });
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw Error("copying the package into " + work + ": " + (why.empty() ? "copy process failed" : why));
}

}  // namespace

PluginRunScope::PluginRunScope(const std::string& state_dir, const std::string& plugin_id,
                               const std::string& run_id, bool remove_after, const helper::HostIds& sandbox,
                               bool hold) {
    if (plugin_id.empty()) return;
    state_.emplace(resolve_state_dir(state_dir));
    const PluginStore store(*state_);
    if (hold) hold_ = store.hold(plugin_id);
    plugin_ = store.find(plugin_id);
    RunRegistry runs(*state_);
    // A background run's directory exists already (its supervisor made the record). One
    // removed afterwards is made disposable: if this process is killed before it removes
    // the directory, the host daemon's next start does (remove_abandoned_runs).
    if (!run_id.empty()) run_id_ = run_id;
    else run_id_ = remove_after ? runs.create_disposable_run(disposable_) : runs.create_run();
    run_dir_ = runs.run_dir(run_id_);
    remove_after_ = remove_after;
    overlay_ = kernel_has_userns_overlay();
    if (overlay_) overlay_work_ = runs.create_sandbox_dir(run_id_, "overlay-work");
    give_work_dir(sandbox);
    if (!overlay_) copy_package_as_sandbox(plugin_->path, runs.work_dir(run_id_), sandbox);
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
    const Manifest& m = plugin_->manifest;
    if (m.entry_path) {
        struct stat st{};
        if (::stat((plugin_->path + "/" + *m.entry_path).c_str(), &st) == 0 && !(st.st_mode & 0111))
            throw Error("plugin " + m.id + ": entrypoint " + *m.entry_path +
                        " is not executable; give a command (such as: sh " + *m.entry_path +
                        ") or stage it with chmod +x");
    }
    return entry_command(m);
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
    if (overlay_) request.overlays.push_back({plugin_->path, run_dir_ + "/work", overlay_work_, kWorkMount});
    else request.extra_binds.push_back({run_dir_ + "/work", kWorkMount, policy::PathMode::ReadWrite});
    request.cwd = kWorkMount;
}

void PluginRunScope::annotate(nlohmann::json& report) const {
    if (!plugin_) return;
    report["plugin"] = plugin_->manifest.id;
    report["plugin_version"] = plugin_->manifest.version;
    report["run_id"] = run_id_;
    report["work"] = overlay_ ? "overlay" : "copy";
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
