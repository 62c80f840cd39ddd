// One container's directory under --root: its recorded state, the start fifo, and the
// status derived from the live processes (never stored: a crashed monitor cannot leave a
// "running" container behind). Layout and rules: docs/oci.md, "The state directory".
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "oci/container_cgroup.hpp"
#include "oci/hooks.hpp"
#include "policy/sys.hpp"

namespace aj::oci {

// runc's container id rule: [A-Za-z0-9_.+-]{1,1024}, not "." or "..": never a path.
bool valid_container_id(const std::string& id);

// The default --root: /run/aurora-runc for root, $XDG_RUNTIME_DIR/aurora-runc otherwise.
std::string default_state_root();

// Opens (creating 0700 when missing) the --root directory. Refuses one owned by another
// uid or writable by group or others: its contents decide which pids get signals.
sys::UniqueFd open_state_root(const std::string& root);

struct RecordedState {
    std::string id, bundle, rootfs, created, owner;
    nlohmann::json annotations = nlohmann::json::object();
    // The namespaces joined by path, {"network": {"path", "inode"}}: the config chose them
    // (a pod's, or the host's own), so `state` says which they were.
    nlohmann::json joined_namespaces = nlohmann::json::object();
    pid_t pid = 0;                      // the sandbox's PID 1
    unsigned long long pid_start = 0;   // its /proc/PID/stat start time
    pid_t monitor = 0;                  // the aurora-runc process running launch()
    unsigned long long monitor_start = 0;
};

nlohmann::json to_json(const RecordedState& s);
RecordedState recorded_state_from_json(const nlohmann::json& j);

// Paused: started, and held by the container's freezer (oci/container_freezer.hpp).
enum class Status { Created, Running, Paused, Stopped };
std::string status_name(Status s);

// Names of the files in a container's directory.
inline constexpr const char* kStateFile = "state.json";
inline constexpr const char* kStartFifo = "start";
inline constexpr const char* kStartedFile = "started";
inline constexpr const char* kExitFile = "exit.json";
inline constexpr const char* kCgroupFile = "cgroup.json";  // the container's cgroup: container_cgroup.hpp
inline constexpr const char* kHooksFile = "hooks.json";  // the config's hooks (hooks.hpp), from create
// What exec holds a new process to (container_restrictions.hpp), from create.
inline constexpr const char* kRestrictionsFile = "restrictions.json";

// The runtime-spec state document of `s` with the given status (what `state` prints and
// hooks read on their stdin).
nlohmann::json state_document(const RecordedState& s, Status status);

class Container {
public:
    // Opens ROOT/ID; throws Error("container does not exist") when there is none.
    Container(int root_fd, const std::string& id);

    const RecordedState& recorded() const { return state_; }
    int dir_fd() const { return dir_.get(); }
    Status status() const;
    // Whether `pid` is still the process recorded with `start` (not a reused number, not a zombie).
    static bool same_live_process(pid_t pid, unsigned long long start);
    // The runtime-spec state document.
    nlohmann::json state_json() const;
    // The config's hooks as create kept them (kHooksFile; none when absent).
    Hooks hooks() const;
    // The container's own cgroups as create recorded them (kCgroupFile; none when absent).
    std::optional<ContainerCgroups> cgroups() const;

private:
    sys::UniqueFd dir_;
    RecordedState state_;
};

// Removes ROOT/ID and the files this program puts there.
void remove_container_dir(int root_fd, const std::string& id);

}  // namespace aj::oci
