// aurora-runc: runc's command line over aurora-jail's launch library (docs/oci.md).
// Parsed by hand: runc's callers put global options first and flags before or after the
// container id, and expect runc's words in errors, not a parser's.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "oci/commands.hpp"
#include "oci/container_state.hpp"
#include "oci/exec.hpp"
#include "oci/list.hpp"
#include "oci/log.hpp"
#include "oci/run.hpp"
#include "oci/update.hpp"
#include "policy/error.hpp"

namespace {

using aj::Error;

constexpr const char* kUsage =
    "usage: aurora-runc [--root DIR] [--log FILE] [--log-format text|json] COMMAND [OPTIONS] ID\n"
    "commands: create --bundle B [--pid-file P] [--console-socket S] ID | start ID | state ID |\n"
    "          kill [--all] ID [SIGNAL] | delete [--force] ID | exec --process F [--detach] [--pid-file P]\n"
    "          [--tty --console-socket S] ID |\n"
    "          update [--resources F|-] [--memory M] [--pids-limit N] [--cpu-shares N] ... ID |\n"
    "          ps [--format table|json] ID | run --bundle B [--detach] [--keep] [create's options] ID |\n"
    "          list [--format table|json] [--quiet] | pause ID | resume ID | features | --version (docs/oci.md)\n";

// The words of one command: flags taking a value, boolean flags, and the positionals.
struct Words {
    std::vector<std::string> positional;
    std::vector<std::pair<std::string, std::string>> flags;  // name (no dashes) -> value ("" for booleans)
};

// Splits argv[i..] into flags and positionals; `with_value` names the flags taking a value.
Words split(int argc, char** argv, int i, const std::vector<std::string>& with_value,
            const std::vector<std::string>& booleans) {
    Words w;
    for (; i < argc; ++i) {
        std::string word = argv[i];
        if (word.size() < 2 || word[0] != '-') {
            w.positional.push_back(word);
            continue;
        }
        std::string name = word.substr(word.starts_with("--") ? 2 : 1);
        std::string value;
        const std::size_t eq = name.find('=');
        const bool inline_value = eq != std::string::npos;
        if (inline_value) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
        }
        if (std::find(with_value.begin(), with_value.end(), name) != with_value.end()) {
            if (!inline_value) {
                if (i + 1 >= argc) throw Error("flag needs an argument: " + word);
                value = argv[++i];
            }
        } else if (std::find(booleans.begin(), booleans.end(), name) == booleans.end()) {
            throw Error("flag provided but not defined: " + word);
        }
        w.flags.emplace_back(name, value);
    }
    return w;
}

std::string flag(const Words& w, const std::string& name) {
    for (const auto& [n, v] : w.flags)
        if (n == name) return v;
    return {};
}

bool has_flag(const Words& w, const std::string& name) {
    for (const auto& [n, v] : w.flags)
        if (n == name) return true;
    return false;
}

// A boolean flag's value as Go's flag package (runc's) reads it: present alone is true,
// `--name=VALUE` takes 1/t/true or 0/f/false (in any of Go's spellings); the last wins.
bool flag_on(const Words& w, const std::string& name) {
    bool on = false;
    for (const auto& [n, v] : w.flags) {
        if (n != name) continue;
        if (v.empty() || v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True")
            on = true;
        else if (v == "0" || v == "f" || v == "F" || v == "false" || v == "FALSE" || v == "False")
            on = false;
        else
            throw Error("invalid boolean value \"" + v + "\" for -" + name);
    }
    return on;
}

// runc's --preserve-fds N passes N fds beyond stdio into the container: only 0 is taken.
void refuse_preserved_fds(const Words& w) {
    if (!flag(w, "preserve-fds").empty() && flag(w, "preserve-fds") != "0")
        throw Error("--preserve-fds: not supported yet");
}

std::string the_id(const Words& w, const std::string& command, std::size_t max_positional = 1) {
    if (w.positional.empty()) throw Error("\"" + command + "\" requires a container ID");
    if (w.positional.size() > max_positional) throw Error("\"" + command + "\": too many arguments");
    return w.positional[0];
}

// create's words, which run takes too (with `more_booleans` of its own).
Words split_create(int argc, char** argv, int i, std::vector<std::string> more_booleans = {}) {
    more_booleans.insert(more_booleans.end(), {"no-pivot", "no-new-keyring"});
    Words w = split(argc, argv, i, {"bundle", "b", "pid-file", "console-socket", "preserve-fds"}, more_booleans);
    refuse_preserved_fds(w);
    return w;
}

aj::oci::CreateOptions create_options(const Words& w, const std::string& command) {
    aj::oci::CreateOptions o;
    o.id = the_id(w, command);
    o.bundle = has_flag(w, "bundle") ? flag(w, "bundle") : flag(w, "b");
    o.pid_file = flag(w, "pid-file");
    o.console_socket = flag(w, "console-socket");
    return o;
}

// --format or -f (ps, list); table by default.
std::string format_flag(const Words& w) {
    return has_flag(w, "format") ? flag(w, "format") : has_flag(w, "f") ? flag(w, "f") : "table";
}

int dispatch(const aj::oci::Globals& g, const std::string& command, int argc, char** argv, int i) {
    using namespace aj::oci;
    if (command == "create") return cmd_create(g, create_options(split_create(argc, argv, i), command));
    if (command == "start") return cmd_start(g, the_id(split(argc, argv, i, {}, {}), command));
    if (command == "state") return cmd_state(g, the_id(split(argc, argv, i, {}, {}), command));
    if (command == "kill") {
        const Words w = split(argc, argv, i, {}, {"all", "a"});
        const std::string id = the_id(w, command, 2);
        return cmd_kill(g, id, w.positional.size() > 1 ? w.positional[1] : "", flag_on(w, "all") || flag_on(w, "a"));
    }
    if (command == "delete") {
        const Words w = split(argc, argv, i, {}, {"force", "f"});
        return cmd_delete(g, the_id(w, command), flag_on(w, "force") || flag_on(w, "f"));
    }
    if (command == "pause") return cmd_pause(g, the_id(split(argc, argv, i, {}, {}), command));
    if (command == "resume") return cmd_resume(g, the_id(split(argc, argv, i, {}, {}), command));
    if (command == "features") return cmd_features();
    if (command == "exec") {
        const Words w = split(argc, argv, i, {"process", "p", "pid-file", "console-socket", "preserve-fds"},
                              {"detach", "d", "tty", "t"});
        refuse_preserved_fds(w);
        ExecOptions o;
        o.id = the_id(w, command);
        o.process_file = has_flag(w, "process") ? flag(w, "process") : flag(w, "p");
        o.pid_file = flag(w, "pid-file");
        o.detach = flag_on(w, "detach") || flag_on(w, "d");
        o.tty = flag_on(w, "tty") || flag_on(w, "t");
        o.console_socket = flag(w, "console-socket");
        return cmd_exec(g, o);
    }
    if (command == "ps") {
        const Words w = split(argc, argv, i, {"format", "f"}, {});
        return cmd_ps(g, the_id(w, command), format_flag(w));
    }
    if (command == "run") {
        const Words w = split_create(argc, argv, i, {"detach", "d", "keep"});
        RunOptions o;
        o.create = create_options(w, command);
        o.detach = flag_on(w, "detach") || flag_on(w, "d");
        o.keep = flag_on(w, "keep");
        return cmd_run(g, o);
    }
    if (command == "list") {
        const Words w = split(argc, argv, i, {"format", "f"}, {"quiet", "q"});
        if (!w.positional.empty()) throw Error("\"list\": too many arguments");
        return cmd_list(g, format_flag(w), flag_on(w, "quiet") || flag_on(w, "q"));
    }
    if (command == "update") {
        const Words w = split(argc, argv, i, update_flag_names(), {});
        UpdateOptions o;
        o.id = the_id(w, command);
        o.resources_file = has_flag(w, "resources") ? flag(w, "resources") : flag(w, "r");
        o.flags = w.flags;
        return cmd_update(g, o);
    }
    for (const char* planned : {"checkpoint", "restore", "events", "spec"})
        if (command == planned) throw Error(command + " is not implemented yet (docs/oci.md)");
    throw Error("no such command: " + command);
}

}  // namespace

int main(int argc, char** argv) {
    aj::oci::Globals g;
    std::string log_file, log_format = "text";
    std::unique_ptr<aj::oci::Log> log;
    int i = 1;
    try {
        for (; i < argc && argv[i][0] == '-'; ++i) {
            std::string word = argv[i];
            std::string value;
            if (const std::size_t eq = word.find('='); eq != std::string::npos) {
                value = word.substr(eq + 1);
                word = word.substr(0, eq);
            }
            auto take = [&] {
                if (!value.empty()) return value;
                if (i + 1 >= argc) throw Error("flag needs an argument: " + word);
                return std::string(argv[++i]);
            };
            if (word == "--version" || word == "-v") {
                std::printf("aurora-runc version %s\nspec: 1.0.2\n", AJ_VERSION);
                return 0;
            } else if (word == "--help" || word == "-h") {
                std::fputs(kUsage, stdout);
                return 0;
            } else if (word == "--root") {
                g.root = take();
            } else if (word == "--log") {
                log_file = take();
            } else if (word == "--log-format") {
                log_format = take();
                if (log_format != "text" && log_format != "json") throw Error("--log-format: text or json, not " + log_format);
            } else if (word == "--systemd-cgroup") {
                // linux.cgroupsPath is then runc's "slice:prefix:name" (docs/oci.md).
                g.systemd_cgroup = true;
            } else if (word == "--debug") {
                // Accepted: nothing more is logged.
            } else {
                throw Error("flag provided but not defined: " + word);
            }
        }
        log = std::make_unique<aj::oci::Log>(log_file, log_format == "json");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "aurora-runc: %s\n", e.what());
        return 1;
    }
    g.log = log.get();
    try {
        if (i >= argc) throw Error(std::string("no command given\n") + kUsage);
        if (g.root.empty()) g.root = aj::oci::default_state_root();
        if (g.root[0] != '/') {
            char cwd[4096];
            if (!::getcwd(cwd, sizeof cwd)) aj::throw_errno("getcwd");
            g.root = std::string(cwd) + "/" + g.root;
        }
        const std::string command = argv[i];
        return dispatch(g, command, argc, argv, i + 1);
    } catch (const std::exception& e) {
        log->error(e.what());
        return 1;
    }
}
