// aurora-jail: parse the command line, call the libraries, print one line per error.
#include <cstdio>
#include <exception>
#include <iostream>

#include "policy/error.hpp"
#include "runner/commands.hpp"
#include "runner/global_options.hpp"

namespace {

// One line for any failure before the action runs, or from it.
int report(const std::exception& e) {
    if (const auto* aj_error = dynamic_cast<const aj::Error*>(&e)) {
        std::fprintf(stderr, "aurora-jail: %s\n", e.what());
        return aj_error->exit_code();
    }
    std::fprintf(stderr, "aurora-jail: internal error: %s\n", e.what());
    return aj::kExitInternal;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"aurora-jail: run untrusted code under a JSON jail policy, setuid-free",
                 "aurora-jail"};
    app.set_version_flag("--version", std::string("aurora-jail ") + AJ_VERSION);
    app.require_subcommand(1);
    app.fallthrough(false);
    // Listed for --help; apply_global_options() takes it off the line before CLI11 parses.
    std::string help_only_state_dir;
    app.add_option("--state-dir", help_only_state_dir,
                   "Global: the state directory for every command (before COMMAND; sets $AURORA_JAIL_STATE_DIR; "
                   "a command's own --state-dir wins)");
    app.footer("Usage: aurora-jail [--state-dir DIR] COMMAND [OPTIONS]; COMMAND --help for each");

    aj::runner::Action action;
    std::vector<std::string> command_words;  // `run`: the words after CMD, never parsed
    std::vector<char*> args;
    int parsed_words = 0;
    try {
        args = aj::runner::apply_global_options(argc, argv);
        const int words = static_cast<int>(args.size()) - 1;
        parsed_words = aj::runner::register_commands(app, action, words, args.data(), command_words);
    } catch (const std::exception& e) {
        return report(e);
    }

    try {
        app.parse(parsed_words, args.data());
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ExtrasError& e) {
        const std::string named = aj::runner::unknown_option_message(app, parsed_words, args.data());
        std::fprintf(stderr, "aurora-jail: %s (see --help)\n", named.empty() ? e.what() : named.c_str());
        return aj::kExitInternal;
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "aurora-jail: %s (see --help)\n", e.what());
        return aj::kExitInternal;
    }

    try {
        return action ? action() : aj::kExitInternal;
    } catch (const std::exception& e) {
        return report(e);
    }
}
