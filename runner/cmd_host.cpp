// `aurora-jail host`: the request-queue daemon.
#include "runner/commands.hpp"
#include "runner/host_daemon.hpp"
#include "runner/state_dir.hpp"

namespace aj::runner {

void register_host_command(CLI::App& app, Action& action) {
    auto opts = std::make_shared<HostOptions>();
    auto state_dir = std::make_shared<std::string>();
    auto* sub = app.add_subcommand(
        "host",
        "Serve the request queue (STATE/queue/requests/NAME.json: {\"plugin\": ID, \"cmd\": "
        "\"shell command\" or [argv...], \"timeout\": S}; cmd may be left out to run the "
        "plugin's entrypoint; any other field is an error), each request in its own sandbox, "
        "answering exactly once in STATE/queue/responses/NAME.result.json or NAME.error.json.\n"
        "Crash rule: at start, a request left claimed by a daemon that died is answered with the "
        "error \"interrupted: daemon stopped while running\" and never re-run (a request may not "
        "be idempotent); one already answered is just unclaimed. One daemon per state directory. "
        "SIGTERM/SIGINT drain: no new claims, running sandboxes finish, responses are written, "
        "exit 0.");
    sub->add_option("--workers", opts->workers, "sandboxes run at once (default 2)")
        ->check(CLI::Range(1, 64));
    sub->add_option("--max-output", opts->max_output,
                    "bytes of stdout and of stderr kept per request (default 1 MiB)")
        ->check(CLI::Range(std::size_t{0}, std::size_t{64} << 20));
    add_state_dir_option(*sub, *state_dir);
    sub->callback([opts, state_dir, &action] {
        action = [opts, state_dir]() -> int {
            opts->state_dir = resolve_state_dir(*state_dir);
            return run_host(*opts);
        };
    });
}

}  // namespace aj::runner
