// `aurora-jail learn [--policy BASE] --output FILE [--workdir DIR] -- CMD ARGS`: runs CMD
// once with BASE's namespaces, the host's tree visible read-only, every call observed and
// let through (helper/learn_supervisor.hpp), and writes BASE plus what the run needed
// (runner/learned_policy.hpp). docs/policy.md says what learning cannot see.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include "helper/id_pool.hpp"
#include "helper/launch.hpp"
#include "helper/learn_supervisor.hpp"
#include "helper/userns.hpp"
#include "policy/atomic_write.hpp"
#include "policy/default_policy.hpp"
#include "policy/error.hpp"
#include "policy/parse.hpp"
#include "policy/policy_dirs.hpp"
#include "policy/store.hpp"
#include "runner/commands.hpp"
#include "runner/learned_policy.hpp"
#include "runner/workdir.hpp"

namespace aj::runner {

namespace {

struct LearnOptions {
    std::string policy;  // empty: the built-in default
    std::string policy_dir;
    std::string output;
    std::string workdir;
    std::uint64_t timeout_sec = 0;
    std::vector<std::string> command;
};

// The host's top-level directories the sandbox does not have of its own, added read-only
// to `view` (what BASE grants stays as BASE grants it). Left out: the sandbox's own
// /proc, /sys, /dev and /tmp; /run, whose sockets (a container daemon's, say) would
// reach the host through any file system view; and what other users may not enter.
void show_host_tree(policy::Policy& view) {
    for (const auto& entry : std::filesystem::directory_iterator("/")) {
        const std::string path = entry.path().string();
        if (path == "/proc" || path == "/sys" || path == "/dev" || path == "/tmp" || path == "/run") continue;
        struct stat st {};
        if (::lstat(path.c_str(), &st) != 0) continue;
        if (S_ISDIR(st.st_mode) && !(st.st_mode & S_IXOTH)) continue;
        if (!S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode)) continue;
        bool granted = false;
        for (const auto& r : view.allowed_paths) granted = granted || r.path == path;
        if (!granted) view.allowed_paths.push_back({path, policy::PathMode::ReadOnly});
    }
}

void print_summary(const std::string& output, const LearnedPolicy& lp) {
    std::fprintf(stderr, "aurora-jail learn: wrote %s\n", output.c_str());
    for (const auto& p : lp.added_paths) std::fprintf(stderr, "  path %s\n", p.c_str());
    for (const auto& c : lp.allowed_calls) std::fprintf(stderr, "  allowed %s\n", c.c_str());
    for (const auto& c : lp.still_refused) std::fprintf(stderr, "  still refused: %s\n", c.c_str());
}

int learn(const LearnOptions& o) {
    if (o.command.empty()) throw Error("learn: no command given (usage: aurora-jail learn --output FILE -- CMD ARGS...)");
    const policy::Policy base = o.policy.empty()
                                    ? policy::default_policy()
                                    : policy::resolve_policy(o.policy, policy::policy_search_dirs(o.policy_dir)).policy;
    std::optional<helper::HostIdLease> lease = helper::lease_if_root(helper::NssCheck::Background);
    const helper::HostIds sandbox = helper::sandbox_host_ids(lease);
    policy::Policy view = base;
    show_host_tree(view);

    helper::LaunchRequest request{view, o.command};
    request.host_ids = sandbox;
    request.confirm_host_ids = [&lease] {
        if (lease) lease->confirm_unknown_to_nss();
    };
    if (!o.workdir.empty()) {
        request.workdir = normalize_workdir(o.workdir);
        if (::geteuid() != 0 || lease) require_writable_workdir(*request.workdir, sandbox.uid, sandbox.gid);
    }
    if (o.timeout_sec) request.timeout_sec = o.timeout_sec;
    // helper::launch alone: namespaces mode or an error, never rlimit-only mode.
    request.describe_enforcement = false;
    request.delivery = policy::DenialDelivery::Learn;
    helper::LearnSupervisor learner(policy::seccomp_inputs(base));
    request.calls = &learner;

    helper::LaunchResult result;
    try {
        result = helper::launch(request);
    } catch (const helper::NamespacesRefused& e) {
        throw Error(std::string("learn needs namespaces (it cannot observe in rlimit-only mode): ") + e.what());
    }

    const LearnedPolicy lp = learned_policy(base, learner.learned(), result.host);
    const std::string text = policy::to_json(lp.policy).dump(2) + "\n";
    // Never write what `run` would refuse.
    (void)policy::parse_policy(text, "the learned policy");
    sys::write_file_atomic(o.output, text, 0644);
    print_summary(o.output, lp);
    return result.exit_code;
}

}  // namespace

void register_learn_command(CLI::App& app, Action& action) {
    auto opts = std::make_shared<LearnOptions>();
    auto* sub = app.add_subcommand(
        "learn", "Run CMD ARGS... once, observing instead of denying, and write the policy it needs");
    sub->add_option("--policy", opts->policy, "Base policy file or stored name (default: the built-in policy)");
    sub->add_option("--policy-dir", opts->policy_dir, "Where named policies are looked up first");
    sub->add_option("--output", opts->output, "Where to write the learned policy")->required();
    sub->add_option("--workdir", opts->workdir, "Host directory bound read-write at the same path; the cwd");
    sub->add_option("--timeout", opts->timeout_sec, "Wall-clock limit in seconds (overrides the policy)");
    // After "--" every word is the command's, options included.
    sub->add_option("CMD", opts->command, "The command and its arguments, after --")->required();
    sub->footer("Usage: aurora-jail learn [OPTIONS] --output FILE -- CMD ARGS...");
    sub->callback([opts, &action] { action = [opts] { return learn(*opts); }; });
}

}  // namespace aj::runner
