// Options written before the sub-command (`aurora-jail --state-dir D status`, as git,
// podman and runc accept them), and their environment variables. Precedence, highest
// first: the sub-command's own option, the global option, the environment variable, the
// built-in default.
#pragma once

#include <string>
#include <vector>

namespace aj::runner {

// The environment variable that names the state directory (runner/state_dir.hpp).
inline constexpr const char* kStateDirEnv = "AURORA_JAIL_STATE_DIR";

// Removes the global options from the front of argv (everything before the first word
// that is not one of them) and applies them: `--state-dir D` (or `--state-dir=D`) sets
// $AURORA_JAIL_STATE_DIR to D made absolute, for this process and whatever it starts,
// so that every sub-command sees it below its own --state-dir. Returns the remaining
// words, argv[0] first, followed by a null pointer that is not counted in size() - 1.
// Throws aj::Error for a global option without its value.
std::vector<char*> apply_global_options(int argc, char** argv);

}  // namespace aj::runner
