// `aurora-jail status [RUN_ID]` and `aurora-jail stop RUN_ID`: background runs, from any shell.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "policy/sys.hpp"
#include "policy/error.hpp"
#include "runner/commands.hpp"
#include "runner/queue.hpp"
#include "runner/run_registry.hpp"

namespace aj::runner {

namespace {

nlohmann::json with_report(const RunRegistry& reg, const RunRecord& r) {
    nlohmann::json j = to_json(r);
    try {
        std::string text = sys::read_file(reg.run_dir(r.id) + "/report.json", 1 << 20);
        nlohmann::json report = nlohmann::json::parse(text, nullptr, false);
        j["report"] = report.is_discarded() ? nlohmann::json(nullptr) : report;
    } catch (const Error&) {
        j["report"] = nullptr;  // still running, or failed before the sandbox started
    }
    j["run_dir"] = reg.run_dir(r.id);
    return j;
}

void print_line(const RunRecord& r) {
    std::string exit = r.exit_code ? std::to_string(*r.exit_code) : "-";
    // The sandbox's host uid/gid: who owns what it left, whose processes are its.
    std::string ids = r.host_uid ? std::to_string(*r.host_uid) + ":" + std::to_string(r.host_gid.value_or(0)) : "-";
    std::printf("%s\t%s\tpid=%d\tstarted=%s\texit=%s\t%s\tuid=%s\n", r.id.c_str(), r.state.c_str(),
                static_cast<int>(r.pid), r.started_at.c_str(), exit.c_str(),
                r.plugin.empty() ? "-" : r.plugin.c_str(), ids.c_str());
}

}  // namespace

void register_status_command(CLI::App& app, Action& action) {
    struct Options {
        std::string id;
        bool json = false;
        bool prune = false;
        double grace = 10;
        std::string state_dir;
    };
    auto opts = std::make_shared<Options>();

    auto* status = app.add_subcommand(
        "status", "Show background runs (all, or RUN_ID): state (running, exited, stopped, failed, "
                  "lost), supervisor pid, start time, exit status, run report");
    status->add_option("RUN_ID", opts->id, "run id printed by `run --detach`");
    status->add_flag("--json", opts->json, "print JSON");
    status->add_flag("--prune", opts->prune,
                     "Remove the directories (logs, report, work/) of every background run that has ended, "
                     "and list those runs");
    add_state_dir_option(*status, opts->state_dir);
    status->callback([opts, &action] {
        if (opts->prune && !opts->id.empty())
            throw CLI::ValidationError("status: --prune takes no RUN_ID (it removes every ended run)");
        action = [opts]() -> int {
            StateDir state(resolve_state_dir(opts->state_dir));
            RunRegistry reg(state);
            if (opts->prune) {
                const std::vector<RunRecord> pruned = reg.prune_ended();
                if (opts->json) {
                    nlohmann::json ids = nlohmann::json::array();
                    for (const auto& r : pruned) ids.push_back(r.id);
                    std::printf("%s\n", dump_json(nlohmann::json{{"removed", ids}}, 2).c_str());
                } else {
                    for (const auto& r : pruned) std::printf("removed %s\t%s\n", r.id.c_str(), r.state.c_str());
                }
                return 0;
            }
            if (!opts->id.empty()) {
                RunRecord r = reg.read(opts->id);
                if (opts->json) {
                    std::printf("%s\n", dump_json(with_report(reg, r), 2).c_str());
                } else {
                    print_line(r);
                    if (!r.error.empty()) std::printf("error: %s\n", r.error.c_str());
                    std::printf("run dir: %s\n", reg.run_dir(r.id).c_str());
                }
                return 0;
            }
            auto runs = reg.list();
            if (opts->json) {
                nlohmann::json all = nlohmann::json::array();
                for (const auto& r : runs) all.push_back(with_report(reg, r));
                std::printf("%s\n", dump_json(all, 2).c_str());
            } else {
                for (const auto& r : runs) print_line(r);
            }
            return 0;
        };
    });

    auto* stop = app.add_subcommand(
        "stop", "Stop a background run: SIGTERM (forwarded into the sandbox), then SIGKILL after "
                "the grace period. The process is identified by pid AND start time, never by name.");
    stop->add_option("RUN_ID", opts->id, "run id")->required();
    stop->add_option("--grace", opts->grace, "seconds between SIGTERM and SIGKILL (default 10)")
        ->check(CLI::Range(0.0, 3600.0));
    add_state_dir_option(*stop, opts->state_dir);
    stop->callback([opts, &action] {
        action = [opts]() -> int {
            StateDir state(resolve_state_dir(opts->state_dir));
            RunRecord r = RunRegistry(state).stop(opts->id, opts->grace);
            print_line(r);
            return 0;
        };
    });
}

}  // namespace aj::runner
