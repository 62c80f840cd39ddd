// Each sub-command lives in its own file (runner/cmd_NAME.cpp) and registers itself
// on the CLI11 app; the callback it stores in `action` runs after parsing succeeds
// and returns the process exit status.
#pragma once

#include <functional>
#include <string_view>

#include <CLI/CLI.hpp>

namespace aj::runner {

using Action = std::function<int()>;

void register_policy_command(CLI::App& app, Action& action);
void register_run_command(CLI::App& app, Action& action);
void register_stage_command(CLI::App& app, Action& action);
void register_plugins_command(CLI::App& app, Action& action);  // plugins, unstage
void register_host_command(CLI::App& app, Action& action);
void register_submit_command(CLI::App& app, Action& action);
void register_status_command(CLI::App& app, Action& action);   // status, stop
void register_check_command(CLI::App& app, Action& action);    // host feature probe

// Registers the sub-commands on `app`. When `first_arg` names one exactly, only the file
// that defines it registers: the others could not take part in parsing that line, and
// building all of them (a few hundred CLI11 objects) is a measurable part of every
// sandbox's start. Anything else (--help, a typo, nothing) gets every sub-command.
void register_commands(CLI::App& app, Action& action, std::string_view first_arg);

}  // namespace aj::runner
