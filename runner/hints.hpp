// After a run fails, cheap hints on stderr for what the sandbox could not see: a command
// or a path argument outside everything the policy and the command line grant, and a
// relative path argument that names a file in the caller's directory while the sandbox
// runs elsewhere. Each names the host path and the policy key or option that grants it.
// Computed from the host's view alone, after the run: nothing here slows a run down.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "helper/launch.hpp"
#include "policy/policy.hpp"

namespace aj::runner {

struct HintContext {
    const policy::Policy& policy;
    const std::vector<helper::ExtraBind>& extra_binds;
    std::optional<std::string> workdir;
    std::string sandbox_cwd;  // the command's cwd inside
    std::string caller_cwd;   // where aurora-jail was started
    std::string caller_path;  // the caller's $PATH, to find a bare command on the host
};

// Whether host path `path` is visible inside the sandbox at all (an allowed path, a bind,
// the work directory, the system view), judged by its name and by what it resolves to.
bool visible_in_sandbox(const HintContext& ctx, const std::string& path);

// The hint lines (without the "aurora-jail: hint: " prefix) for a run of `argv` that
// failed; `not_found`: the command itself could not be found (exit 127).
std::vector<std::string> failed_run_hints(const HintContext& ctx, const std::vector<std::string>& argv,
                                          bool not_found);

// Prints them to stderr, one "aurora-jail: hint: ..." line each.
void print_hints(const std::vector<std::string>& hints);

}  // namespace aj::runner
