#include "runner/commands.hpp"

#include <array>

#include "policy/error.hpp"
#include "policy/text.hpp"

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

// A word from the command line, escaped so that a message stays one printable line.
std::string shown(std::string_view word) {
    const std::string quoted = policy::quote(word, 40);
    return quoted.substr(1, quoted.size() - 2);
}

// "unknown option --polcy (did you mean --policy?)": the closest of `sub`'s option names.
[[noreturn]] void refuse_unknown_option(const CLI::App& sub, const std::string& name) {
    std::vector<std::string> known;
    for (const CLI::Option* opt : sub.get_options()) {
        for (const std::string& l : opt->get_lnames()) known.push_back("--" + l);
        for (const std::string& s : opt->get_snames()) known.push_back("-" + s);
    }
    const std::string guess = policy::nearest(name, known);
    throw Error(sub.get_name() + ": unknown option " + policy::quote(name).substr(1, name.size()) +
                (guess.empty() ? std::string() : " (did you mean " + guess + "?)") +
                " (the command's own options go after CMD, or after --)");
}

// Where CMD is in a `run` line: the index of the first word that is neither a known
// option of `run` nor an option's value (after a "--", the word that follows it). argc
// when there is none. An unknown option before CMD is refused here, naming it: CLI11
// would set it aside and report a later word instead.
int run_cmd_index(const CLI::App& run, int argc, char** argv) {
    for (int i = 2; i < argc; ++i) {
        const std::string_view word = argv[i];
        if (word == "--") return i + 1 < argc ? i + 1 : argc;
        if (word.size() < 2 || word.front() != '-') return i;
        const std::string name(word.substr(0, word.find('=')));
        const CLI::Option* opt = run.get_option_no_throw(name);
        if (opt == nullptr) refuse_unknown_option(run, name);
        if (opt->get_expected_min() > 0 && name.size() == word.size()) ++i;  // its value
    }
    return argc;
}

// "unknown command 'frobnicate' (did you mean ...?); commands: check, host, ...".
[[noreturn]] void refuse_unknown_command(std::string_view word) {
    std::vector<std::string> names;
    std::string listed;
    for (const CommandFile& f : kCommandFiles) {
        for (std::string_view name : f.names) {
            if (name.empty()) continue;
            names.emplace_back(name);
            listed += (listed.empty() ? "" : ", ") + std::string(name);
        }
    }
    const std::string guess = policy::nearest(word, names);
    throw Error("unknown command '" + shown(word) + "'" +
                (guess.empty() ? std::string() : " (did you mean " + guess + "?)") + "; commands: " + listed +
                " (aurora-jail --help)");
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
    // A plain word that names no sub-command: CLI11 would only say that one is required.
    if (!first_arg.empty() && first_arg.front() != '-') refuse_unknown_command(first_arg);
    for (const CommandFile& f : kCommandFiles) f.add(app, action);
    return argc;
}

}  // namespace aj::runner
