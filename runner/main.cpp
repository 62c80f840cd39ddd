// aurora-jail: parse the command line, call the libraries, print one line per error.
#include <cstdio>
#include <exception>
#include <iostream>

#include "policy/error.hpp"
#include "runner/commands.hpp"

int main(int argc, char** argv) {
    CLI::App app{"aurora-jail: run untrusted code under a JSON jail policy, setuid-free",
                 "aurora-jail"};
    app.set_version_flag("--version", std::string("aurora-jail ") + AJ_VERSION);
    app.require_subcommand(1);
    app.fallthrough(false);

    aj::runner::Action action;
    std::vector<std::string> command_words;  // `run`: the words after CMD, never parsed
    const int parsed_words = aj::runner::register_commands(app, action, argc, argv, command_words);

    try {
        app.parse(parsed_words, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "aurora-jail: %s (see --help)\n", e.what());
        return aj::kExitInternal;
    }

    try {
        return action ? action() : aj::kExitInternal;
    } catch (const aj::Error& e) {
        std::fprintf(stderr, "aurora-jail: %s\n", e.what());
        return e.exit_code();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "aurora-jail: internal error: %s\n", e.what());
        return aj::kExitInternal;
    }
}
