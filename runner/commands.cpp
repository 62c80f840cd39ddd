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

constexpr std::array<CommandFile, 9> kCommandFiles{{
    {{"policy", ""}, register_policy_command},
    {{"run", ""}, [](CLI::App& app, Action& action) { register_run_command(app, action); }},
    {{"stage", ""}, register_stage_command},
    {{"plugins", "unstage"}, register_plugins_command},
    {{"host", ""}, register_host_command},
    {{"submit", ""}, register_submit_command},
    {{"status", "stop"}, register_status_command},
    {{"check", ""}, register_check_command},
    {{"learn", ""}, register_learn_command},
}};

// A word from the command line, escaped so that a message stays one printable line.
std::string shown(std::string_view word) {
    const std::string quoted = policy::quote(word, 40);
    return quoted.substr(1, quoted.size() - 2);
}

// "policy show": a command's words from the top.
std::string command_path(const CLI::App& sub) {
    std::string path = sub.get_name();
    for (const CLI::App* up = sub.get_parent(); up != nullptr && up->get_parent() != nullptr; up = up->get_parent())
        path = up->get_name() + " " + path;
    return path;
}

// "unknown option --polcy (did you mean --policy?)": the closest of `sub`'s option names.
std::string unknown_option_text(const CLI::App& sub, const std::string& name) {
    std::vector<std::string> known;
    for (const CLI::Option* opt : sub.get_options()) {
        for (const std::string& l : opt->get_lnames()) known.push_back("--" + l);
        for (const std::string& s : opt->get_snames()) known.push_back("-" + s);
    }
    const std::string guess = policy::nearest(name, known);
    return command_path(sub) + ": unknown option " + shown(name) +
           (guess.empty() ? std::string() : " (did you mean " + guess + "?)");
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
        if (opt == nullptr)
            throw Error(unknown_option_text(run, name) + " (the command's own options go after CMD, or after --)");
        if (opt->get_expected_min() > 0 && name.size() == word.size()) ++i;  // its value
    }
    return argc;
}

// "unknown command 'frobnicate' (did you mean ...?); commands: check, host, ...", with
// `parent` ("policy ") before "command" and in the help hint for a nested one.
[[noreturn]] void refuse_unknown_command(std::string_view word, const std::vector<std::string>& names,
                                         const std::string& parent) {
    std::string listed;
    for (const std::string& name : names) listed += (listed.empty() ? "" : ", ") + name;
    const std::string guess = policy::nearest(word, names);
    throw Error("unknown " + parent + "command '" + shown(word) + "'" +
                (guess.empty() ? std::string() : " (did you mean " + guess + "?)") + "; commands: " + listed +
                " (aurora-jail " + parent + "--help)");
}

std::vector<std::string> top_command_names() {
    std::vector<std::string> names;
    for (const CommandFile& f : kCommandFiles)
        for (std::string_view name : f.names)
            if (!name.empty()) names.emplace_back(name);
    return names;
}

// `policy shw`: CLI11 would only say that a sub-command is required.
void check_nested_command(const CLI::App& app, std::string_view top, int argc, char** argv) {
    if (argc < 3) return;
    const CLI::App* sub = app.get_subcommand(std::string(top));  // just registered: never throws
    const std::vector<const CLI::App*> nested = sub->get_subcommands([](const CLI::App*) { return true; });
    const std::string_view word = argv[2];
    if (nested.empty() || word.empty() || word.front() == '-') return;
    std::vector<std::string> names;
    for (const CLI::App* n : nested) {
        if (n->get_name() == word) return;
        names.push_back(n->get_name());
    }
    refuse_unknown_command(word, names, std::string(top) + " ");
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
                check_nested_command(app, first_arg, argc, argv);
                return argc;
            }
        }
    }
    // A plain word that names no sub-command: CLI11 would only say that one is required.
    if (!first_arg.empty() && first_arg.front() != '-') refuse_unknown_command(first_arg, top_command_names(), "");
    for (const CommandFile& f : kCommandFiles) f.add(app, action);
    return argc;
}

std::string unknown_option_message(const CLI::App& app, int argc, char** argv) {
    const CLI::App* sub = &app;
    for (std::vector<CLI::App*> chosen = app.get_subcommands(); !chosen.empty(); chosen = sub->get_subcommands())
        sub = chosen.front();
    if (sub == &app) return {};
    for (int i = 1; i < argc; ++i) {
        const std::string_view word = argv[i];
        if (word == "--") break;
        if (word.size() < 2 || word.front() != '-') continue;
        const std::string name(word.substr(0, word.find('=')));
        if (sub->get_option_no_throw(name) == nullptr) return unknown_option_text(*sub, name);
    }
    return {};
}

}  // namespace aj::runner
