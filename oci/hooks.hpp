// The config's hooks (runtime-spec "POSIX-platform Hooks"), run as runc runs them: each a
// host program the config names, started by the runtime with the container's state JSON on
// its stdin, the hook's own args and env (nothing else), killed after its `timeout`.
//
// Hooks are host code the config's author chose, not container code: they run with the
// caller's privileges (root for an engine), never inside the sandbox's restrictions, in
// the runtime's own namespaces (a monitor that joined a pod's namespaces puts its own back
// for them first). SECURITY.md says so; only a caller that trusts the config may run it.
//
// When each runs (docs/oci.md, "Hooks"):
// - prestart, then createRuntime: in create, by the monitor once the container's PID 1
//   exists, before create returns. One failing fails create; the container is killed,
//   its poststop hooks run, and it is removed.
// - poststart: in start, after the process was released. A failure is logged only.
// - poststop: in delete, once the container stopped. A failure is logged only.
// createContainer and startContainer (run inside the container's namespaces) are refused.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace aj::oci {

struct Hook {
    std::string path;               // absolute, on the host
    std::vector<std::string> args;  // argv as given (args[0] included); [path] when absent
    std::vector<std::string> env;   // NAME=VALUE, the hook's whole environment
    std::optional<int> timeout_sec;
};

struct Hooks {
    std::vector<Hook> prestart, create_runtime, poststart, poststop;
    bool empty() const { return prestart.empty() && create_runtime.empty() && poststart.empty() && poststop.empty(); }
};

// The config's "hooks" object, checked field by field. Throws aj::Error naming the field.
Hooks parse_hooks(const nlohmann::json& hooks);
// The inverse, as the state directory keeps it (parse_hooks reads it back).
nlohmann::json to_json(const Hooks& hooks);

// Runs each hook in order with `state` on its stdin; throws aj::Error at the first that
// fails (exit status, signal, timeout, or cannot start), naming the phase, the path and
// what the hook wrote (the first 4 KiB of its stdout and stderr together).
// `namespace_fds`: (fd, CLONE_NEW* flag) pairs the hook's process joins before execve
// (the runtime's own namespaces, when the caller left them).
void run_hooks(const std::string& phase, const std::vector<Hook>& hooks, const nlohmann::json& state,
               const std::vector<std::pair<int, int>>& namespace_fds = {});

}  // namespace aj::oci
