// A plugin package's manifest.json: what it is (id, name, version), what it runs
// (entrypoint) and under which policy. Parsing validates everything; nothing downstream
// reads the JSON.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace aj::runner {

// Where a plugin run sees its files (documented in docs/plugins.md, "Plugin runs"): the staged
// package read-only at /plugin, its own fresh run directory read-write at /work (the cwd).
inline constexpr const char* kPluginMount = "/plugin";
inline constexpr const char* kWorkMount = "/work";

struct Manifest {
    std::string id;
    std::string name;
    std::string version;
    std::string description;
    // Either a path inside the package (entry_path set, run as /plugin/PATH) or an argv.
    std::optional<std::string> entry_path;
    std::vector<std::string> entry_argv;
    std::optional<std::string> policy;  // a policy NAME
    bool operator==(const Manifest&) const = default;
};

// The argv the entrypoint runs as inside the sandbox.
std::vector<std::string> entry_command(const Manifest& m);

// A plugin id (also a policy name, a request name stem): one safe directory entry,
// [A-Za-z0-9][A-Za-z0-9._-]{0,63}, without "..". Ids like "acme.testpkg" are fine.
bool is_safe_name(std::string_view name, std::size_t max_len = 64);
// Throws aj::Error("WHAT: ...") when `name` is not a safe name.
void check_safe_name(std::string_view name, std::string_view what, std::size_t max_len = 64);

// A relative path without "", ".", ".." components, leading "/" or NUL: stays inside
// whatever directory it is resolved beneath (absent symlinks).
bool is_safe_relative_path(std::string_view path);

// Parses and validates manifest JSON. `source` names the input in messages; errors read
// "SOURCE: /pointer: what is wrong".
Manifest parse_manifest(std::string_view json_text, const std::string& source);
nlohmann::json to_json(const Manifest& m);

inline constexpr std::size_t kMaxManifestBytes = std::size_t{64} * 1024;

}  // namespace aj::runner
