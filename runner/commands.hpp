// Each sub-command lives in its own file (runner/cmd_NAME.cpp) and registers itself
// on the CLI11 app; the callback it stores in `action` runs after parsing succeeds
// and returns the process exit status.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

namespace aj::runner {

using Action = std::function<int()>;

void register_policy_command(CLI::App& app, Action& action);
// `command_words`, when given, is read when the line is parsed: the words after CMD,
// which CLI11 never sees (register_commands fills it).
void register_run_command(CLI::App& app, Action& action, const std::vector<std::string>* command_words = nullptr);
void register_stage_command(CLI::App& app, Action& action);
void register_plugins_command(CLI::App& app, Action& action);  // plugins, unstage
void register_host_command(CLI::App& app, Action& action);
void register_submit_command(CLI::App& app, Action& action);
void register_status_command(CLI::App& app, Action& action);   // status, stop
void register_check_command(CLI::App& app, Action& action);    // host feature probe
void register_learn_command(CLI::App& app, Action& action);

// Registers the sub-commands on `app` and returns how many words of argv CLI11 is to
// parse. When argv[1] names a sub-command exactly, only the file that defines it
// registers: the others could not take part in parsing that line, and building all of
// them (a few hundred CLI11 objects) is a measurable part of every sandbox's start.
// Anything else (--help, a typo, nothing) gets every sub-command.
// For `run`, CLI11 parses up to CMD only: every later word is the command's, verbatim
// (CLI11 would take a "--" right after CMD as its own marker and lose it), and goes into
// `command_words`. A line with an option `run` does not know before CMD is parsed whole,
// so that CLI11 names the option.
// A plain word that names no sub-command (at the top, or below one that has its own,
// like `policy`) is refused here, naming it and the closest command: CLI11 would only
// say that a sub-command is required.
int register_commands(CLI::App& app, Action& action, int argc, char** argv,
                      std::vector<std::string>& command_words);

// After CLI11 refused a line for words it did not expect: "status: unknown option --jsn
// (did you mean --json?)" for the first option word the chosen command does not know,
// or empty when the unexpected word is no option.
std::string unknown_option_message(const CLI::App& app, int argc, char** argv);

}  // namespace aj::runner
