// aurora-runc's sub-commands (runc's command line: docs/oci.md). Each throws aj::Error
// with runc's wording where engines match strings; main.cpp logs it and exits 1.
#pragma once

#include <csignal>
#include <functional>
#include <string>

#include "oci/log.hpp"

namespace aj::oci {

struct Globals {
    std::string root;  // --root, made absolute
    Log* log = nullptr;
    bool systemd_cgroup = false;  // --systemd-cgroup: linux.cgroupsPath is "slice:prefix:name"
};

struct CreateOptions {
    std::string id;
    std::string bundle;    // --bundle (default: the current directory)
    std::string pid_file;  // --pid-file
    std::string console_socket;  // --console-socket: where the terminal's master goes (oci/console.hpp)
    // `run` without --detach: called when the config asks for a terminal, before anything
    // is made; returns the console socket run listens on itself (oci/foreground_terminal.hpp).
    std::function<std::string()> foreground_console;
};

int cmd_create(const Globals& g, const CreateOptions& o);
int cmd_start(const Globals& g, const std::string& id);
int cmd_state(const Globals& g, const std::string& id);
// `all`: every process of the container's pid namespace (kill --all).
int cmd_kill(const Globals& g, const std::string& id, const std::string& signal, bool all);
int cmd_delete(const Globals& g, const std::string& id, bool force);
// Freeze and thaw every process of a running container (oci/container_freezer.hpp).
int cmd_pause(const Globals& g, const std::string& id);
int cmd_resume(const Globals& g, const std::string& id);
int cmd_features();

// "KILL", "SIGKILL", "9" -> 9; throws Error for anything else.
int parse_signal(const std::string& text);

}  // namespace aj::oci
