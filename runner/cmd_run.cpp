// `aurora-jail run`: load and check the policy, then hand everything to the launcher
// (which compiles the seccomp program); no command runs when any of that fails.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>

#include "helper/fallback.hpp"
#include "helper/launch.hpp"
#include "policy/default_policy.hpp"
#include "policy/error.hpp"
#include "policy/parse.hpp"
#include "policy/seccomp_compile.hpp"
#include "policy/store.hpp"
#include "runner/commands.hpp"
#include "runner/plugin_run.hpp"
#include "runner/report.hpp"

namespace aj::runner {

namespace {

struct RunOptions {
    std::string policy;  // empty: the built-in default
    std::string policy_dir;
    std::string workdir;
    std::uint64_t timeout_sec = 0;  // 0: the policy's
    bool json = false;
    std::string report_file;
    std::string command_name;
    std::vector<std::string> command;
    // --plugin / --detach / --rm (runner/plugin_run.hpp)
    std::string plugin;
    bool detach = false;
    bool require_isolation = false;  // never fall back to rlimit-only mode
    bool remove_run_dir = false;
    std::string state_dir;
    std::string run_id;  // set for a background run
};

// --policy FILE|NAME: a file, or a name looked up in --policy-dir,
// $AURORA_JAIL_POLICY_DIR, /etc/aurora-jail/policies. None: the built-in default.
policy::Policy load_run_policy(const std::string& spec, const std::string& policy_dir) {
    if (spec.empty()) return policy::default_policy();
    return policy::resolve_policy(spec, policy::policy_search_dirs(policy_dir)).policy;
}

int run(const RunOptions& o) {
    const PluginRunScope plugin(o.state_dir, o.plugin, o.run_id, o.remove_run_dir);
    const std::vector<std::string> argv = plugin.argv(o.command);
    if (argv.empty()) throw Error("run: no command given (usage: aurora-jail run [OPTIONS] -- CMD ARGS...)");
    const policy::Policy policy = load_run_policy(plugin.policy_spec(o.policy), o.policy_dir);
    helper::LaunchRequest request{policy, argv};
    plugin.apply(request);
    if (!o.workdir.empty()) request.workdir = o.workdir;
    if (o.timeout_sec) request.timeout_sec = o.timeout_sec;
    const bool want_report = o.json || !o.report_file.empty();
    request.describe_enforcement = want_report;
    request.require_isolation = o.require_isolation;

    std::optional<ReportTarget> report_target;
    if (!o.report_file.empty()) report_target.emplace(o.report_file);

    const std::string started_at = want_report ? utc_timestamp() : std::string();
    helper::LaunchResult result = helper::launch_or_fall_back(request, o.require_isolation);

    if (want_report) {
        nlohmann::json report = make_run_report(result, policy, argv, started_at);
        plugin.annotate(report);
        if (report_target) report_target->write(report);
        if (o.json) {
            std::cout << report.dump() << std::endl;
        }
    }
    if (result.timed_out)
        std::fprintf(stderr, "aurora-jail: timed out after %llu s; sandbox killed\n",
                     static_cast<unsigned long long>(result.timeout_sec.value_or(0)));
    return result.exit_code;
}

}  // namespace

void register_run_command(CLI::App& app, Action& action, const std::vector<std::string>* command_words) {
    auto opts = std::make_shared<RunOptions>();
    auto* sub = app.add_subcommand("run", "Run CMD ARGS... in a sandbox under a jail policy");
    sub->add_option("--policy", opts->policy, "Policy file or stored policy name (default: the built-in policy)");
    sub->add_option("--policy-dir", opts->policy_dir, "Where named policies are looked up first");
    sub->add_option("--workdir", opts->workdir, "Host directory bound read-write at the same path; the cwd");
    sub->add_option("--timeout", opts->timeout_sec, "Wall-clock limit in seconds (overrides the policy)");
    sub->add_flag("--json", opts->json, "Print the run report as one JSON line on stdout");
    sub->add_flag("--require-isolation", opts->require_isolation,
                  "Refuse to run (exit 125) rather than fall back to rlimit-only mode when namespaces are unavailable");
    sub->add_option("--report", opts->report_file, "Write the run report to FILE (atomically)");
    sub->add_option("--plugin", opts->plugin,
                    "Run staged plugin ID: its entrypoint (or CMD) in a fresh run directory "
                    "(rw, the cwd, at /work), the package read-only at /plugin, under its policy");
    sub->add_flag("--detach", opts->detach,
                  "Run in the background: print a run id at once; see `status` and `stop`");
    sub->add_flag("--rm", opts->remove_run_dir, "Remove the plugin run's directory afterwards");
    add_state_dir_option(*sub, opts->state_dir);
    // Everything from CMD on belongs to the command, options included: the first
    // positional is CMD; main gives CLI11 the line only up to CMD when it can tell where
    // that is (register_commands), and otherwise prefix_command() hands every word after
    // CMD over unparsed.
    auto* cmd = sub->add_option("CMD", opts->command_name, "The command, resolved via PATH inside the sandbox");
    sub->prefix_command();
    // prefix_command() (CLI11 2.1) stops only at an unknown *positional*: an unknown
    // option before CMD is set aside and parsing goes on, so "--polcy FILE CMD" would run
    // CMD under the default policy with "--polcy" in its argv. Record what was set aside
    // when CMD is parsed (positional validators run at that moment) to refuse it below.
    auto set_aside_before_cmd = std::make_shared<std::optional<std::vector<std::string>>>();
    sub->validate_positionals();
    cmd->check(CLI::Validator(
        [sub, set_aside_before_cmd](std::string&) {
            if (!*set_aside_before_cmd) *set_aside_before_cmd = sub->remaining();
            return std::string();
        },
        "", "words set aside before CMD"));
    sub->footer("Usage: aurora-jail run [OPTIONS] [--] CMD ARGS...");
    sub->callback([opts, &action, sub, cmd, set_aside_before_cmd, command_words] {
        // Before CMD (or anywhere, without CMD) only "--" may have been set aside; any
        // other word there is an option aurora-jail does not know.
        const std::vector<std::string> all_set_aside = sub->remaining();
        for (const std::string& word : *set_aside_before_cmd ? **set_aside_before_cmd : all_set_aside) {
            if (word == "--") break;
            throw CLI::ValidationError("run: unknown option " + word +
                                       " (the command's own options go after CMD, or after --)");
        }
        // CLI11 still parses our own options between CMD and its first plain argument
        // (run sh --json): refuse that instead of silently taking them from the command.
        bool after_cmd = false;
        for (const CLI::Option* o : sub->parse_order()) {
            if (o == cmd) after_cmd = true;
            else if (after_cmd)
                throw CLI::ValidationError("run: option " + o->get_name() +
                                           " after CMD is ambiguous; write: aurora-jail run [OPTIONS] -- CMD ARGS...");
        }
        // A "--" before CMD is the first word CLI11 set aside; every later one is the command's.
        std::vector<std::string> rest = sub->remaining();
        if (!rest.empty() && rest.front() == "--") rest.erase(rest.begin());
        if (opts->command_name.empty() && opts->plugin.empty())
            throw CLI::RequiredError("CMD (or --plugin ID)");
        if (!opts->command_name.empty()) opts->command = {opts->command_name};
        opts->command.insert(opts->command.end(), rest.begin(), rest.end());
        // The words after CMD that CLI11 was not given (register_commands).
        if (command_words) opts->command.insert(opts->command.end(), command_words->begin(), command_words->end());
        action = [opts] {
            if (!opts->detach) return run(*opts);
            return run_detached(opts->state_dir, opts->plugin, opts->command,
                                [opts](const std::string& run_id, const std::string& report) {
                                    opts->run_id = run_id;
                                    opts->report_file = report;
                                    return run(*opts);
                                });
        };
    });
}

}  // namespace aj::runner
