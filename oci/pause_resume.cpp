// pause and resume (oci/commands.hpp): the container's freezer, where container_freezer.hpp
// says it lives.
#include <fstream>
#include <optional>
#include <string>

#include "helper/cgroup_discovery.hpp"
#include "oci/commands.hpp"
#include "oci/container_freezer.hpp"
#include "oci/container_state.hpp"
#include "policy/error.hpp"

namespace aj::oci {

namespace {

// The container's freezer, or an Error naming why it has none (never a substitute such
// as SIGSTOP, which the container's processes could see and undo).
Freezer freezer_of(const Container& container, const std::string& id) {
    const std::optional<ContainerCgroups> cgroups = container.cgroups();
    if (const std::optional<Freezer> f = cgroups ? find_freezer(*cgroups) : std::nullopt) return *f;
    std::string why = "none of its cgroups has a freezer";
    if (!cgroups)
        why = "it has no cgroup of its own (created before aurora-runc made one for every container)";
    else if (!cgroups->no_freezer.empty())
        why = cgroups->no_freezer;
    throw Error("cannot pause container " + id + ": no cgroup freezer: " + why);
}

// A v2 freezer holds the container only if the sandbox's PID 1 lies beneath it: where the
// launch library found no memory controller there, it may have asked systemd for a scope
// of its own elsewhere (docs/oci.md, pause and resume), and freezing the freezer's cgroup
// would then report success with the container still running.
void refuse_a_freezer_outside(const Freezer& f, const Container& container, const std::string& id) {
    if (!f.v2) return;
    const pid_t pid = container.recorded().pid;
    std::string mount_point;
    for (const auto& h : helper::discover_cgroup_hierarchies())
        if (h.version == helper::CgroupVersion::V2) mount_point = h.mount_point;
    std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
    std::string line, path;
    while (std::getline(in, line))
        if (line.rfind("0::", 0) == 0) path = line.substr(3);
    if (mount_point.empty() || path.empty()) return;  // it ended meanwhile: nothing to hold
    while (mount_point.size() > 1 && mount_point.back() == '/') mount_point.pop_back();
    const std::string dir = mount_point + (path == "/" ? "" : path);
    if (dir == f.dir || dir.starts_with(f.dir + "/")) return;
    throw Error("cannot pause container " + id + ": its sandbox's cgroup " + dir + " lies outside its freezer's " +
                f.dir + " (without linux.cgroupsPath on cgroup v2, run create alone in a delegated cgroup, e.g. " +
                "systemd-run --scope -p Delegate=yes)");
}

}  // namespace

int cmd_pause(const Globals& g, const std::string& id) {
    const sys::UniqueFd root = open_state_root(g.root);
    const Container container(root.get(), id);
    // runc's words. A created container is not paused either: its process has not run,
    // and start would wait on a frozen monitor.
    if (container.status() != Status::Running) throw Error("container not running");
    const Freezer f = freezer_of(container, id);
    refuse_a_freezer_outside(f, container, id);
    freeze(f);
    return 0;
}

int cmd_resume(const Globals& g, const std::string& id) {
    const sys::UniqueFd root = open_state_root(g.root);
    const Container container(root.get(), id);
    if (container.status() != Status::Paused) throw Error("container not paused");
    thaw(freezer_of(container, id));
    return 0;
}

}  // namespace aj::oci
