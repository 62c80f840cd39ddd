// pause and resume: the container's cgroup freezer (docs/oci.md, "pause and resume").
//
// Where it lives: one directory of the container's own cgroups (container_cgroup.hpp),
// which every process of the container is in from its start (the monitor joins it before
// it forks; PID 1 and all it forks inherit it; exec joins PID 1's cgroups). With
// linux.cgroupsPath that is the path's directory in the v1 freezer hierarchy, else in the
// v2 one (cgroup.freeze is core v2: no controller to enable). Without it, create makes one
// directory for the freezer alone, in that same hierarchy, beneath this process's own
// cgroup (make_freezer_cgroup), recorded like any of the container's cgroups, so delete,
// delete --force and a failed create remove it. The v1 hierarchy is preferred on a hybrid
// host, as runc does there: its controllers are v1.
//
// Frozen is the kernel's state, never a record: `state` says "paused" while the freezer
// holds the container (a crashed pause cannot leave a container that reads as paused
// but runs, or the reverse).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "oci/container_cgroup.hpp"

namespace aj::oci {

struct Freezer {
    std::string dir;  // the cgroup directory
    bool v2 = false;  // cgroup.freeze and cgroup.events; else v1's freezer.state
};

// The freezer among the container's cgroups: the leaf holding freezer.state (v1), else
// the one holding cgroup.freeze (v2); nullopt when none has either.
std::optional<Freezer> find_freezer(const ContainerCgroups& cgroups);

// Makes a cgroup for the freezer alone, named after the container (with a random suffix:
// two --root directories may hold the same id), beneath this process's own cgroup in the
// v1 freezer hierarchy, else the v2 one. When none can be made (no freezer on this host,
// no permission beneath our cgroup), returns a record without leaves whose no_freezer says
// why: the container runs all the same, and only pause fails, naming that reason.
// On cgroup v2, when create is alone in its cgroup, it steps into a leaf beside the
// freezer's (recorded with it) and enables memory, pids and cpu for its children, so that
// the sandbox's own cgroup can be made below the freezer's with its limits.
ContainerCgroups make_freezer_cgroup(const std::string& id);

// The freezer-only v2 cgroup when it can hold the sandbox's cgroup with a memory limit
// (its cgroup.controllers has memory), else nullopt. The monitor makes it the launch
// library's cgroup parent: the sandbox then stays beneath the freezer, where otherwise the
// launch library would ask systemd for a scope of its own and leave it (and pause would
// freeze nothing of the container's processes).
std::optional<std::string> sandbox_parent_in_freezer(const ContainerCgroups& cgroups);

// Whether the freezer holds (or is taking) its processes: v1 FREEZING or FROZEN, v2
// cgroup.freeze 1.
bool is_frozen(const Freezer& f);

// Freezes every process of the cgroup and waits until the kernel reports them all frozen
// (v1 freezer.state FROZEN, v2 cgroup.events "frozen 1"). A process that will not freeze
// within `budget` (one in uninterruptible sleep on a v1 host) thaws the cgroup again and
// throws: pause never leaves a half-frozen container behind.
void freeze(const Freezer& f, std::chrono::milliseconds budget = std::chrono::seconds(5));

// Thaws the cgroup and waits until the kernel reports it thawed.
void thaw(const Freezer& f, std::chrono::milliseconds budget = std::chrono::seconds(5));

// Thaws whichever of the container's cgroups is a frozen freezer (for kill and delete,
// whose SIGKILL a v1 frozen task would take only once thawed). Throws when thawing fails.
void thaw_container_cgroups(const ContainerCgroups& cgroups);

}  // namespace aj::oci
