// `aurora-jail submit`: put a request in the queue; --wait for its answer.
#include <chrono>
#include <cstdio>

#include "policy/sys.hpp"
#include "policy/error.hpp"
#include "runner/commands.hpp"
#include "runner/queue.hpp"
#include "runner/response_wait.hpp"
#include "runner/state_dir.hpp"

namespace aj::runner {

namespace {

// How long --wait waits by default: the request's own wall-clock limit plus this much
// for the queue ahead of it.
constexpr unsigned kDefaultWaitMarginSec = 300;
// A daemon found not serving is given this long to appear (one being started or
// restarting, on a loaded machine) before --wait gives up.
constexpr auto kDaemonGrace = std::chrono::seconds(10);

}  // namespace

void register_submit_command(CLI::App& app, Action& action) {
    struct Options {
        std::string plugin;
        unsigned timeout = kDefaultRequestTimeoutSec;
        bool wait = false;
        unsigned wait_timeout = 0;  // when --wait-timeout is not given: timeout + kDefaultWaitMarginSec
        std::string state_dir;
        std::vector<std::string> cmd;
        std::string shell;  // -c: one shell string, run as /bin/sh -c STRING
        std::uint64_t memory_mb = 0;
    };
    auto opts = std::make_shared<Options>();
    auto* sub = app.add_subcommand(
        "submit",
        "Queue a request for `aurora-jail host` and print its NAME. With --wait, print the "
        "response instead: the sandbox's stdout and stderr, exiting with its status (125 for "
        "an error response; NAME then goes to stderr). Without CMD the plugin's entrypoint runs.");
    sub->add_option("--plugin", opts->plugin, "staged plugin id")->required();
    auto* timeout = sub->add_option("--timeout", opts->timeout, "sandbox wall-clock timeout, seconds (default 10, at most the policy's; may only tighten it)")
        ->check(CLI::Range(1u, static_cast<unsigned>(kMaxRequestTimeoutSec)));
    sub->add_flag("--wait", opts->wait, "wait for the response and print it");
    auto* wait_timeout = sub->add_option("--wait-timeout", opts->wait_timeout,
                    "give up waiting after S seconds (default: the request's --timeout + " +
                        std::to_string(kDefaultWaitMarginSec) + "; 0: no limit). Waiting also ends, "
                        "exit 125, when no daemon serves the state directory (its heartbeat)");
    add_state_dir_option(*sub, opts->state_dir);
    auto* cmd = sub->add_option("CMD", opts->cmd, "command and arguments (after --)");
    sub->add_option("-c", opts->shell, "a shell command string, run as /bin/sh -c STRING (as the prototype did)")
        ->excludes(cmd);
    sub->add_option("--memory-mb", opts->memory_mb,
                    "memory limit for this request, MiB; may only tighten the plugin's policy")
        ->check(CLI::Range(std::uint64_t{1}, kMaxRequestMemoryMb));
    sub->callback([opts, timeout, wait_timeout, &action] {
        if (wait_timeout->count() == 0) opts->wait_timeout = opts->timeout + kDefaultWaitMarginSec;
        const bool timeout_given = timeout->count() > 0;
        action = [opts, timeout_given]() -> int {
            StateDir state(resolve_state_dir(opts->state_dir));
            Queue queue(state.queue());
            Request req;
            req.plugin = opts->plugin;
            req.timeout_sec = opts->timeout;
            req.timeout_given = timeout_given;  // else the daemon applies its default, capped by the policy
            if (opts->memory_mb) req.memory_mb = opts->memory_mb;
            if (!opts->shell.empty()) {
                req.argv = std::vector<std::string>{"/bin/sh", "-c", opts->shell};
                req.cmd = opts->shell;
            } else if (!opts->cmd.empty()) {
                req.argv = opts->cmd;
                req.cmd = opts->cmd;
            }
            std::string name = queue.submit(req);
            if (!opts->wait) {
                std::printf("%s\n", name.c_str());
                return 0;
            }
            std::fprintf(stderr, "aurora-jail: submitted %s\n", name.c_str());
            Queue::Response resp = wait_for_response(state, queue, name, opts->wait_timeout, kDaemonGrace);
            if (resp.is_error) {
                std::string why = resp.body.value("error", std::string("unknown error"));
                throw Error("request " + name + ": " + why);
            }
            std::string out = resp.body.value("stdout", std::string());
            std::string err = resp.body.value("stderr", std::string());
            sys::write_all(1, out, "writing stdout");
            sys::write_all(2, err, "writing stderr");
            int rc = resp.body.value("rc", kExitInternal);
            return rc >= 0 && rc <= 255 ? rc : kExitInternal;
        };
    });
}

}  // namespace aj::runner
