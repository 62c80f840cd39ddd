// pause and resume (oci/commands.hpp): the container's freezer, where container_freezer.hpp
// says it lives.
#include <optional>

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

}  // namespace

int cmd_pause(const Globals& g, const std::string& id) {
    const sys::UniqueFd root = open_state_root(g.root);
    const Container container(root.get(), id);
    // runc's words. A created container is not paused either: its process has not run,
    // and start would wait on a frozen monitor.
    if (container.status() != Status::Running) throw Error("container not running");
    freeze(freezer_of(container, id));
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
