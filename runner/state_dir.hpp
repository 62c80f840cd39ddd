// The state directory: where staged plugins, run directories, policies, the request
// queue and logs live. One place decides its location and creates its layout with the
// permissions the sandbox needs (and no wider).
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace aj::runner {

class StateDir {
public:
    // Opens (creating when missing) the state directory at `root` and its layout.
    explicit StateDir(std::string root);

    const std::string& root() const { return root_; }
    std::string plugins() const { return root_ + "/plugins"; }
    std::string runs() const { return root_ + "/runs"; }
    std::string policies() const { return root_ + "/policies"; }
    std::string queue() const { return root_ + "/queue"; }
    std::string logs() const { return root_ + "/logs"; }

private:
    std::string root_;
};

// The default location: /var/lib/aurora-jail for root, otherwise
// $XDG_STATE_HOME/aurora-jail (default ~/.local/state/aurora-jail).
std::string default_state_dir();

// `path` made absolute (against the cwd) and lexically normal, without a trailing "/";
// `what` (an option name) prefixes the error.
std::string absolute_path(const std::string& path, const std::string& what);

// `override_dir` when non-empty, else $AURORA_JAIL_STATE_DIR when set (the global
// `aurora-jail --state-dir D` sets it: runner/global_options.hpp), else
// default_state_dir(). A chosen directory is made absolute.
std::string resolve_state_dir(const std::string& override_dir);

// Adds the `--state-dir DIR` option every plugin-related sub-command takes.
void add_state_dir_option(CLI::App& sub, std::string& dir);

// Throws aj::Error unless every directory above `path` is owned by root or us and not
// writable by other users (unless sticky, like /tmp): all later operations resolve paths
// below it again, and a hostile ancestor could swap the tree between them.
void check_ancestors_trusted(const std::string& path);

// Creates `path` (one level) with `mode` when missing; refuses a symlink or a non-directory
// and tightens a directory we own whose mode is wider than asked.
void ensure_dir(const std::string& path, unsigned mode);

}  // namespace aj::runner
