// `aurora-jail stage PKG_DIR`: validate a plugin package and copy it into the store.
#include <cstdio>

#include "runner/commands.hpp"
#include "runner/plugin_store.hpp"

namespace aj::runner {

void register_stage_command(CLI::App& app, Action& action) {
    struct Options {
        std::string package_dir;
        std::string state_dir;
    };
    auto opts = std::make_shared<Options>();
    auto* sub = app.add_subcommand(
        "stage",
        "Validate a plugin package (manifest.json: id, name, version, entrypoint, optional "
        "policy) and copy it into the plugin store; an existing version is replaced atomically. "
        "Symlinks pointing out of the package, absolute symlinks, fifos, sockets and devices "
        "are refused.");
    sub->add_option("PKG_DIR", opts->package_dir, "package directory")->required();
    add_state_dir_option(*sub, opts->state_dir);
    sub->callback([opts, &action] {
        action = [opts]() -> int {
            StateDir state(resolve_state_dir(opts->state_dir));
            StagedPlugin p = PluginStore(state).stage(opts->package_dir);
            std::printf("staged %s %s at %s\n", p.manifest.id.c_str(), p.manifest.version.c_str(),
                        p.path.c_str());
            return 0;
        };
    });
}

}  // namespace aj::runner
