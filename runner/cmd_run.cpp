// `aurora-jail run`: load and check the policy, then hand everything to the launcher
// (which compiles the seccomp program); no command runs when any of that fails.
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>

#include "helper/fallback.hpp"
#include "helper/id_pool.hpp"
#include "helper/launch.hpp"
#include "helper/userns.hpp"
#include "policy/default_policy.hpp"
#include "policy/error.hpp"
#include "policy/parse.hpp"
#include "policy/policy_dirs.hpp"
#include "policy/seccomp_compile.hpp"
#include "policy/store.hpp"
#include "runner/cli_grants.hpp"
#include "runner/commands.hpp"
#include "runner/hints.hpp"
#include "runner/plugin_run.hpp"
#include "runner/report.hpp"
#include "runner/request_limits.hpp"
#include "runner/run_sandbox.hpp"
#include "runner/workdir.hpp"

namespace aj::runner {

namespace {

// Hints on stderr after a run that failed (runner/hints.hpp): only then, and only from the
// host's view, so a run that works pays nothing for them.
void hint_after_failure(const helper::LaunchRequest& request, bool not_found) {
    char cwd[PATH_MAX];
    const char* path = std::getenv("PATH");
    const HintContext ctx{request.policy,
                          request.extra_binds,
                          request.workdir,
                          request.cwd.value_or(request.workdir.value_or("/")),
                          ::getcwd(cwd, sizeof cwd) ? std::string(cwd) : std::string(),
                          path ? path : ""};
    if (ctx.caller_cwd.empty()) return;
    print_hints(failed_run_hints(ctx, request.argv, not_found));
}

// --policy FILE|NAME: a file, or a name looked up in policy_search_dirs() (--policy-dir,
// $AURORA_JAIL_POLICY_DIR, the user's own, /etc/aurora-jail/policies). None: the built-in default.
policy::Policy load_run_policy(const std::string& spec, const std::string& policy_dir) {
    if (spec.empty()) return policy::default_policy();
    return policy::resolve_policy(spec, policy::policy_search_dirs(policy_dir)).policy;
}

}  // namespace

int run_sandbox(const RunOptions& o) {
    // A root caller's sandbox gets host ids of its own, leased until this run is over.
    std::optional<helper::HostIdLease> lease =
        o.host_ids ? std::nullopt : helper::lease_if_root(helper::NssCheck::Background);
    const helper::HostIds sandbox = o.host_ids.value_or(helper::sandbox_host_ids(lease));
    const PluginRunScope plugin(o.state_dir, o.plugin, o.run_id, o.remove_run_dir, sandbox, !o.plugin_held_by_caller);
    const std::vector<std::string> argv = plugin.argv(o.command);
    if (argv.empty()) throw Error("run: no command given (usage: aurora-jail run [OPTIONS] -- CMD ARGS...)");
    policy::Policy policy = o.parsed_policy ? *o.parsed_policy : load_run_policy(plugin.policy_spec(o.policy), o.policy_dir);
    if (o.memory_mb) tighten_memory(policy, o.memory_mb, "the run");
    const std::vector<helper::ExtraBind> granted = apply_cli_grants(o.grants, policy);
    helper::LaunchRequest request{policy, argv};
    request.host_ids = sandbox;
    // The launch's one call before the command may start (a retry after a lease known
    // to NSS calls it again: before_command runs once).
    bool command_released = false;
    request.confirm_host_ids = [&lease, &o, &command_released] {
        if (lease) lease->confirm_unknown_to_nss();
        if (o.before_command && !command_released) {
            o.before_command();
            command_released = true;
        }
    };
    plugin.apply(request);
    request.extra_binds.insert(request.extra_binds.end(), granted.begin(), granted.end());
    if (!o.workdir.empty()) {
        request.workdir = normalize_workdir(o.workdir);
        // The sandbox's host ids are known here for an ordinary caller (its own) and for a
        // leasing root caller; the root of another user namespace learns its identity only
        // when the mode is chosen (rlimit-only mode may keep uid 0), so the kernel decides.
        if (::geteuid() != 0 || lease || o.host_ids) require_writable_workdir(*request.workdir, sandbox.uid, sandbox.gid);
    }
    if (o.timeout_sec) request.timeout_sec = o.timeout_sec;
    if (o.pass_stdio) request.stdio_mode = helper::StdioMode::PassThrough;
    const bool want_report = o.json || !o.report_file.empty() || o.report_fd >= 0;
    request.describe_enforcement = want_report;
    request.require_isolation = o.require_isolation;
    // A background run's stdout and stderr are its run directory's logs: host disk the
    // sandbox fills, so they count against its disk budget.
    request.output_in_disk_budget = o.detach;

    std::optional<ReportTarget> report_target;
    if (!o.report_file.empty()) report_target.emplace(o.report_file);
    std::optional<ReportFd> report_fd;
    if (o.report_fd >= 0) report_fd.emplace(o.report_fd);

    std::string started_at = want_report ? utc_timestamp() : std::string();
    std::vector<std::string> ran = argv;  // what the report names
    if (o.command_at_release)
        request.argv_at_release = [&] {
            if (auto command = o.command_at_release()) ran = std::move(*command);
            if (want_report) started_at = utc_timestamp();
            return ran;
        };
    helper::LaunchResult result;
    for (int attempt = 1;; ++attempt) {
        try {
            result = helper::launch_or_fall_back(request, o.require_isolation);
            break;
        } catch (const helper::HostIdsKnownToNss& e) {
            // Nothing of the sandbox ran: lease another number.
            if (!lease || attempt == 8)
                throw Error(std::string(e.what()) + ": keep the range of " + helper::kIdsConf + " clear of accounts");
            std::fprintf(stderr, "aurora-jail: warning: %s (the range of %s holds accounts); leasing another\n",
                         e.what(), helper::kIdsConf);
            lease.reset();
            lease.emplace(helper::lease_host_ids(helper::load_id_range(), helper::NssCheck::Background));
            request.host_ids = helper::sandbox_host_ids(lease);
            plugin.give_work_dir(*request.host_ids);
        } catch (const Error& e) {
            if (e.exit_code() != kExitNotFound && e.exit_code() != kExitNotExecutable) throw;
            // The command could not be started: main's own line, then what may explain it.
            std::fprintf(stderr, "aurora-jail: %s\n", e.what());
            hint_after_failure(request, e.exit_code() == kExitNotFound);
            return e.exit_code();
        }
    }

    if (want_report) {
        nlohmann::json report = make_run_report(result, policy, ran, started_at);
        plugin.annotate(report);
        if (!o.grants.empty()) report["command_line_grants"] = describe_cli_grants(o.grants, granted);
        if (report_target) report_target->write(report);
        if (report_fd) report_fd->write(report);
        if (o.json) print_json_report(report);
    }
    if (result.exit_code != 0 && !result.timed_out && !o.detach) hint_after_failure(request, false);
    if (result.timed_out)
        std::fprintf(stderr, "aurora-jail: timed out after %llu s; sandbox killed\n",
                     static_cast<unsigned long long>(result.timeout_sec.value_or(0)));
    // The teardown follows as the locals go: result's cgroup, then the run directory and
    // the lease.
    if (o.after_report) o.after_report(result.exit_code);
    return result.exit_code;
}

void register_run_command(CLI::App& app, Action& action, const std::vector<std::string>* command_words) {
    auto opts = std::make_shared<RunOptions>();
    auto* sub = app.add_subcommand("run", "Run CMD ARGS... in a sandbox under a jail policy");
    sub->add_option("--policy", opts->policy, "Policy file or stored policy name (default: the built-in policy)");
    sub->add_option("--policy-dir", opts->policy_dir, "Where named policies are looked up first");
    sub->add_option("--workdir", opts->workdir, "Host directory bound read-write at the same path; the cwd");
    sub->add_option("--timeout", opts->timeout_sec, "Wall-clock limit in seconds (overrides the policy)");
    sub->add_option("--memory,--memory-mb", opts->grants.memory_mb,
                    "Memory limit in MiB; may only lower the policy's max_memory_mb (a higher value is refused)")
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 20));
    sub->add_option("--cpus", opts->grants.cpus,
                    "CPU bandwidth in cores; may only lower the policy's max_cpus (a higher value is refused)")
        ->check(CLI::Range(0.01, 4096.0));
    sub->add_option("--pids", opts->grants.pids,
                    "Processes and threads; may only lower the policy's max_pids (a higher value is refused)")
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{4194304}));
    sub->add_option("--bind", opts->grants.bind,
                    "Bind host SRC read-write at DST (default: SRC) for this run; repeatable")
        ->type_name("SRC[:DST]")->allow_extra_args(false);
    sub->add_option("--ro-bind", opts->grants.ro_bind,
                    "Bind host SRC read-only at DST (default: SRC) for this run; repeatable")
        ->type_name("SRC[:DST]")->allow_extra_args(false);
    sub->add_option("--network", opts->grants.network, "host or none: the network for this run (overrides the policy)")
        ->check(CLI::IsMember({"host", "none"}));
    sub->add_flag("--json", opts->json, "Print the run report as one JSON line on stdout");
    sub->add_flag("--require-isolation", opts->require_isolation,
                  "Refuse to run (exit 125) rather than fall back to rlimit-only mode when namespaces are unavailable");
    sub->add_flag("--pass-stdio", opts->pass_stdio,
                  "Give the sandbox the caller's own stdin/stdout/stderr instead of relaying them "
                  "(weaker: it can then change the caller's terminal and truncate its files)");
    sub->add_option("--report", opts->report_file, "Write the run report to FILE (atomically)");
    sub->add_option("--report-fd", opts->report_fd,
                    "Write the run report as one JSON line to descriptor N (3 or above, opened by the caller; "
                    "the sandbox cannot write to it)");
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
        if (opts->detach && opts->report_fd >= 0)
            throw CLI::ValidationError("run: --report-fd with --detach: a background run's report is in its run "
                                       "directory (see `aurora-jail status RUN_ID --json`)");
        action = [opts] {
            if (!opts->detach) return run_sandbox(*opts);
            // Leased before the record exists, so `status` shows the ids from the start;
            // the supervisor inherits the lease for the run's whole life.
            const std::optional<helper::HostIdLease> lease = helper::lease_if_root(helper::NssCheck::Now);
            opts->host_ids = helper::sandbox_host_ids(lease);
            return run_detached(opts->state_dir, opts->plugin, opts->command, *opts->host_ids,
                                [opts](const std::string& run_id, const std::string& report) {
                                    opts->run_id = run_id;
                                    opts->report_file = report;
                                    return run_sandbox(*opts);
                                });
        };
    });
}

}  // namespace aj::runner
