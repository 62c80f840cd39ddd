#include "runner/commands.hpp"

#include <array>

namespace aj::runner {

namespace {

struct CommandFile {
    std::array<std::string_view, 2> names;  // the sub-commands it registers ("" = none)
    void (*add)(CLI::App&, Action&);
};

constexpr std::array<CommandFile, 8> kCommandFiles{{
    {{"policy", ""}, register_policy_command},
    {{"run", ""}, register_run_command},
    {{"stage", ""}, register_stage_command},
    {{"plugins", "unstage"}, register_plugins_command},
    {{"host", ""}, register_host_command},
    {{"submit", ""}, register_submit_command},
    {{"status", "stop"}, register_status_command},
    {{"check", ""}, register_check_command},
}};

}  // namespace

void register_commands(CLI::App& app, Action& action, std::string_view first_arg) {
    for (const CommandFile& f : kCommandFiles) {
        for (std::string_view name : f.names) {
            if (!name.empty() && name == first_arg) {
                f.add(app, action);
                return;
            }
        }
    }
    for (const CommandFile& f : kCommandFiles) f.add(app, action);
}

}  // namespace aj::runner
