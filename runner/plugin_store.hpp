// The plugin store: staged packages under STATE/plugins/ID, each a private, validated,
// world-readable copy that the sandbox mounts read-only. Staging is all-or-nothing and
// replacing a staged version is atomic; neither replacing nor removing touches a version
// a run is using.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "policy/sys.hpp"
#include "runner/manifest.hpp"
#include "runner/state_dir.hpp"
#include "runner/tree_copy.hpp"

namespace aj::runner {

struct StagedPlugin {
    Manifest manifest;
    std::string path;  // STATE/plugins/ID
};

class PluginStore {
public:
    explicit PluginStore(const StateDir& state) : dir_(state.plugins()) {}

    // Validates PKG_DIR/manifest.json and the whole tree, copies it into a temp dir
    // under plugins/, and renames it into place (exchanging with an older version, then
    // removing that). Leftovers of an interrupted stage are removed first.
    StagedPlugin stage(const std::string& package_dir, const CopyLimits& limits = {}) const;
    // Every staged plugin, sorted by id. Unreadable entries are skipped.
    std::vector<StagedPlugin> list() const;
    // The staged plugin `id`; throws "unknown plugin ID" when there is none.
    StagedPlugin find(const std::string& id) const;
    // Removes plugin `id`; throws when it is not staged, or while a run holds it.
    void unstage(const std::string& id) const;
    // A run's hold on `id`, released by closing the descriptor: until then neither
    // unstage nor a new stage of `id` touches the staged tree (both refuse instead).
    // Take it before find(), which then sees the version the run will use.
    sys::UniqueFd hold(const std::string& id) const;

private:
    std::string dir_;
};

// The manifest of a staged copy, read without following symlinks.
Manifest read_staged_manifest(int package_dir_fd, const std::string& source);

}  // namespace aj::runner
