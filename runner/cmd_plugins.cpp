// `aurora-jail plugins [--json]` lists the store; `aurora-jail unstage ID` removes one.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "runner/commands.hpp"
#include "runner/plugin_store.hpp"

namespace aj::runner {

void register_plugins_command(CLI::App& app, Action& action) {
    struct Options {
        bool json = false;
        std::string state_dir;
        std::string id;
    };
    auto opts = std::make_shared<Options>();
    auto* list = app.add_subcommand("plugins", "List staged plugins");
    list->add_flag("--json", opts->json, "print a JSON array");
    add_state_dir_option(*list, opts->state_dir);
    list->callback([opts, &action] {
        action = [opts]() -> int {
            StateDir state(resolve_state_dir(opts->state_dir));
            auto plugins = PluginStore(state).list();
            if (opts->json) {
                nlohmann::json out = nlohmann::json::array();
                for (const auto& p : plugins) {
                    nlohmann::json j = to_json(p.manifest);
                    j["path"] = p.path;
                    out.push_back(std::move(j));
                }
                std::printf("%s\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
                return 0;
            }
            for (const auto& p : plugins) {
                std::string entry;
                for (const auto& a : entry_command(p.manifest)) entry += (entry.empty() ? "" : " ") + a;
                std::printf("%s\t%s\t%s\t%s\n", p.manifest.id.c_str(), p.manifest.version.c_str(),
                            p.manifest.name.c_str(), entry.c_str());
            }
            return 0;
        };
    });

    auto* unstage = app.add_subcommand("unstage", "Remove a staged plugin");
    unstage->add_option("ID", opts->id, "plugin id")->required();
    add_state_dir_option(*unstage, opts->state_dir);
    unstage->callback([opts, &action] {
        action = [opts]() -> int {
            StateDir state(resolve_state_dir(opts->state_dir));
            PluginStore(state).unstage(opts->id);
            return 0;
        };
    });
}

}  // namespace aj::runner
