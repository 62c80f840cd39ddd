// `aurora-jail check [--json]`: what this host can enforce, feature by feature, and the
// mode a run would use. Exit 0: full isolation (namespaces mode with a seccomp filter);
// 1: a run would fall back to rlimit-only mode or run without seccomp.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "helper/host_features.hpp"
#include "helper/limit_scopes.hpp"
#include "policy/error.hpp"
#include "runner/commands.hpp"

namespace aj::runner {
namespace {

void row(const std::string& feature, const std::string& status, const std::string& detail = "") {
    std::printf("%-22s %-10s %s\n", feature.c_str(), status.c_str(), detail.c_str());
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : " ") + i;
    return out;
}

void print_table(const helper::HostFeatures& f) {
    row("FEATURE", "STATUS", "DETAIL");
    for (const auto& ns : f.namespaces) {
        std::string detail = ns.reason;
        if (ns.error) detail = errno_name(ns.error) + ": " + detail;
        row(ns.name + " namespace", ns.ok ? "yes" : "no", detail);
    }
    row("seccomp filter", f.seccomp.ok ? "yes" : "no",
        f.seccomp.ok ? "actions: " + join(f.seccomp.actions) : f.seccomp.reason);
    row("landlock", f.landlock.abi > 0 ? "yes" : "no",
        f.landlock.abi > 0 ? "ABI " + std::to_string(f.landlock.abi) : f.landlock.reason);
    const auto& cg = f.cgroups.backends;
    row("cgroups", f.cgroups.layout, cg.contains("error") ? cg["error"].get<std::string>() : "");
    const std::pair<const char*, const char*> limits[] = {
        {"memory", "  memory limit"}, {"cpus", "  cpu bandwidth"}, {"pids", "  pids limit"}, {"cpu_time", "  cpu time"}};
    for (const auto& [key, label] : limits) {
        std::string backend = cg.contains(key) ? cg[key].get<std::string>() : "none";
        row(label, backend, backend == "none" ? "no cgroup for it" : "");
    }
    if (cg.contains("notes"))
        for (const auto& n : cg["notes"]) row("  note", "", n.get<std::string>());
    // What a run by this user would make of each limit.
    for (const auto& l : helper::limit_scopes(f))
        row(l.key, l.scope, l.mechanism + (l.note.empty() ? "" : ": " + l.note));
    row("mode", f.mode, f.full_isolation ? "full isolation" : "a run is NOT fully isolated");
}

}  // namespace

void register_check_command(CLI::App& app, Action& action) {
    auto json = std::make_shared<bool>(false);
    auto* sub = app.add_subcommand(
        "check",
        "Probe what this host can enforce (namespaces, seccomp, Landlock, cgroups) and the mode a run would use.\n"
        "Exit status: 0 when full isolation is possible (namespaces mode with a seccomp filter), 1 otherwise.");
    sub->add_flag("--json", *json, "Print the result as one JSON object");
    sub->callback([&action, json] {
        action = [json] {
            helper::HostFeatures f = helper::probe_host_features();
            if (*json) {
                nlohmann::json j = f.to_json();
                for (const auto& l : helper::limit_scopes(f))
                    j["limits"][l.key] = {{"scope", l.scope}, {"mechanism", l.mechanism}, {"note", l.note}};
                std::cout << j.dump(2) << "\n";
            } else {
                print_table(f);
            }
            std::fflush(stdout);
            return f.full_isolation ? 0 : 1;
        };
    });
}

}  // namespace aj::runner
