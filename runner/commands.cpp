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
    {{"run", ""}, [](CLI::App& app, Action& action) { register_run_command(app, action); }},
    {{"stage", ""}, register_stage_command},
    {{"plugins", "unstage"}, register_plugins_command},
    {{"host", ""}, register_host_command},
    {{"submit", ""}, register_submit_command},
    {{"status", "stop"}, register_status_command},
    {{"check", ""}, register_check_command},
}};

// Where CMD is in a `run` line: the index of the first word that is neither a known
// option of `run` nor an option's value (after a "--", the word that follows it). argc
// when there is none, or when an unknown option comes first.
int run_cmd_index(const CLI::App& run, int argc, char** argv) {
    for (int i = 2; i < argc; ++i) {
        const std::string_view word = argv[i];
        if (word == "--") return i + 1 < argc ? i + 1 : argc;
        if (word.size() < 2 || word.front() != '-') return i;
        const std::string name(word.substr(0, word.find('=')));
        const CLI::Option* opt = run.get_option_no_throw(name);
        if (opt == nullptr) return argc;
        if (opt->get_expected_min() > 0 && name.size() == word.size()) ++i;  // its value
    }
    return argc;
}

}  // namespace

int register_commands(CLI::App& app, Action& action, int argc, char** argv,
                      std::vector<std::string>& command_words) {
    const std::string_view first_arg = argc > 1 ? argv[1] : "";
    if (first_arg == "run") {
        register_run_command(app, action, &command_words);
        const int cmd = run_cmd_index(*app.get_subcommand("run"), argc, argv);
        if (cmd >= argc) return argc;
        command_words.assign(argv + cmd + 1, argv + argc);
        return cmd + 1;
    }
    for (const CommandFile& f : kCommandFiles) {
        for (std::string_view name : f.names) {
            if (!name.empty() && name == first_arg) {
                f.add(app, action);
                return argc;
            }
        }
    }
    for (const CommandFile& f : kCommandFiles) f.add(app, action);
    return argc;
}

}  // namespace aj::runner
