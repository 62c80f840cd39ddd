// `aurora-jail host`: the request-queue daemon.
#include <cstdio>

#include "helper/cgroup.hpp"
#include "runner/commands.hpp"
#include "runner/daemonize.hpp"
#include "runner/host_daemon.hpp"
#include "runner/warm_pool.hpp"
#include "runner/state_dir.hpp"

namespace aj::runner {
namespace {

// Under systemd's Delegate=yes the unit's cgroup is the daemon's to divide: the daemon
// steps into a leaf of it, so that each run may create its sandbox cgroup beside it.
void offer_cgroup_to_runs() {
    helper::CgroupOffer offer;
    try {
        offer = helper::offer_own_cgroup_to_children();
    } catch (const Error& e) {
        offer.why_not = e.what();
    }
    if (!offer.parent.empty())
        std::fprintf(stderr, "aurora-jail host: sandbox cgroups beneath %s\n", offer.parent.c_str());
    else if (!offer.why_not.empty())
        std::fprintf(stderr, "aurora-jail host: each run finds its own cgroup (%s)\n", offer.why_not.c_str());
}

}  // namespace

void register_host_command(CLI::App& app, Action& action) {
    auto opts = std::make_shared<HostOptions>();
    auto state_dir = std::make_shared<std::string>();
    struct Extra {
        std::string queue_dir;
        bool daemonize = false;
        std::string log_file;
    };
    auto extra = std::make_shared<Extra>();
    auto* sub = app.add_subcommand(
        "host",
        "Serve the request queue (STATE/queue/requests/NAME.json: {\"plugin\": ID, \"cmd\": "
        "\"shell command\" or [argv...], \"timeout\": S, \"memory_mb\": M}; cmd may be left out to "
        "run the plugin's entrypoint; timeout and memory_mb may only tighten the plugin's policy; "
        "any other field is an error), each request in its own sandbox, answering exactly once "
        "in STATE/queue/responses/NAME.result.json or NAME.error.json. The prototype's "
        "requests/NAME.req files are served too, answered as NAME.req.result.json "
        "{\"req\", \"result\": {\"rc\", \"stdout\", \"stderr\", \"ts\", ...}} or NAME.req.error.json; "
        "any other file there is answered with an error.\n"
        "Crash rule: at start, a request left claimed by a daemon that died is answered with the "
        "error \"interrupted: daemon stopped while running\" and never re-run (a request may not "
        "be idempotent); one already answered is just unclaimed. One daemon per state directory. "
        "SIGTERM/SIGINT drain: no new claims, running sandboxes finish, responses are written, "
        "exit 0.");
    sub->add_option("--workers", opts->workers, "sandboxes run at once (default 2)")
        ->check(CLI::Range(1, 64));
    sub->add_option("--warm", opts->warm,
                    "sandboxes kept built in advance for each plugin served lately (at most " +
                        std::to_string(kMaxWarmPlugins) + " plugins), each waiting for one request that "
                        "asks for the plugin's own limits (default 2; 0: every sandbox is built on its request)")
        ->check(CLI::Range(0u, kMaxWarmPerPlugin));
    sub->add_option("--max-output", opts->max_output,
                    "bytes of stdout and of stderr kept per request (default 1 MiB)")
        ->check(CLI::Range(std::size_t{0}, std::size_t{64} << 20));
    add_state_dir_option(*sub, *state_dir);
    sub->add_option("--queue-dir", extra->queue_dir,
                    "serve DIR/requests, answering in DIR/responses (a prototype's data/ directory, "
                    "in place) instead of STATE/queue");
    sub->add_flag("--daemonize", extra->daemonize,
                  "run in the background (no service manager needed); returns once serving");
    sub->add_option("--pidfile", opts->pidfile, "write the daemon's pid here once serving; removed at exit");
    sub->add_option("--log", extra->log_file, "with --daemonize: append the log here (default STATE/logs/host.log)");
    sub->callback([opts, state_dir, extra, &action] {
        action = [opts, state_dir, extra]() -> int {
            opts->state_dir = resolve_state_dir(*state_dir);
            if (!extra->queue_dir.empty()) opts->queue_dir = absolute_path(extra->queue_dir, "--queue-dir");
            if (!opts->pidfile.empty()) opts->pidfile = absolute_path(opts->pidfile, "--pidfile");
            if (!extra->daemonize) {
                offer_cgroup_to_runs();
                return run_host(*opts);
            }
            const std::string log = extra->log_file.empty() ? StateDir(opts->state_dir).logs() + "/host.log"
                                                            : absolute_path(extra->log_file, "--log");
            return daemonize(log, [opts](int ready_fd) {
                offer_cgroup_to_runs();
                opts->ready_fd = ready_fd;
                return run_host(*opts);
            });
        };
    });
}

}  // namespace aj::runner
