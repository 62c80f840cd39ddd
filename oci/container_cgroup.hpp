// The container's cgroup at linux.cgroupsPath, in every hierarchy of this host (docs/oci.md,
// "The container's cgroup"): made by create (only the directories that do not exist yet),
// the config's resources written into it, the container's monitor moved in (the sandbox
// and every process it forks follow), and removed by delete: only what create made.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "oci/cgroup_resources.hpp"

namespace aj::oci {

struct ContainerCgroups {
    std::vector<std::string> leaves;   // the container's directory in each hierarchy
    std::vector<std::string> created;  // the directories create made, parents before children
    // Why the container has no freezer, when it has none (container_freezer.hpp): what
    // pause then says.
    std::string no_freezer;
    // No linux.cgroupsPath: the one leaf is the freezer's own cgroup (make_freezer_cgroup),
    // no container cgroup to write linux.resources to.
    bool freezer_only = false;
};

nlohmann::json to_json(const ContainerCgroups& c);
ContainerCgroups container_cgroups_from_json(const nlohmann::json& j);

// Makes PATH's directory in every hierarchy this process sees (what is missing only; a new
// v1 cpuset directory first gets its parent's cpus and mems, without which no process may
// join it), and writes `writes` into the leaf of the hierarchy carrying each controller
// (v1 first, as the host's controllers are; v2 where no v1 hierarchy has it). A write that
// fails fails the whole (what was made is removed); an optional file that is missing, or a
// controller no hierarchy has, adds a warning. The directories lie below the hierarchies'
// mount points by construction (parse_cgroups_path refuses ".."), and each is opened
// below the previous one without following links.
ContainerCgroups make_container_cgroups(const CgroupsPath& path, const std::vector<ControlWrite>& writes,
                                        std::vector<std::string>& warnings);

// Makes `name` (one component) beneath this process's own cgroup in hierarchy `h`, as
// make_container_cgroups makes its directories: the record's one leaf.
ContainerCgroups make_own_child_cgroup(const helper::CgroupHierarchy& h, const std::string& name);

// Writes `writes` into existing cgroup directories, at most one per hierarchy (a container's
// leaves, or the sandbox's own cgroup), as make_container_cgroups writes them at create:
// each opened below its hierarchy's mount point without following links. `applied` gets
// "DIR/FILE = VALUE" for each write that took, in order. The first write the kernel
// refuses throws; what `applied` holds by then stays applied (the caller says so).
void write_cgroup_resources(const std::vector<std::string>& dirs, const std::vector<ControlWrite>& writes,
                            std::vector<std::string>& warnings, std::vector<std::string>& applied);

// Moves `pid` into every leaf.
void join_container_cgroups(const ContainerCgroups& cgroups, pid_t pid);

// Removes what make_container_cgroups made, deepest first: a leaf it made is emptied
// (anything left in it is killed: it is the container's); a parent it made is removed
// only once nothing else lives below it. Throws naming a leaf that could not be removed.
void remove_container_cgroups(const ContainerCgroups& cgroups);

}  // namespace aj::oci
