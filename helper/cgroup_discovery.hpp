// Where this process sits in each cgroup hierarchy: parsed from /proc/self/cgroup and
// /proc/self/mountinfo. Pure parsing (testable without privileges) plus one reader.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace aj::helper {

enum class CgroupVersion { V1, V2 };

struct CgroupHierarchy {
    CgroupVersion version = CgroupVersion::V2;
    // v1: the controllers this hierarchy carries (named hierarchies such as name=systemd
    // are skipped). v2: left empty here; read cgroup.controllers of a directory instead.
    std::set<std::string> controllers;
    std::string mount_point;  // e.g. /sys/fs/cgroup/memory
    std::string own_path;     // our cgroup as /proc/self/cgroup names it, e.g. /process_api/x
    std::string own_dir;      // the same cgroup as a directory we can open
    // Our cgroup is the root of the hierarchy (or of our cgroup namespace): creating a
    // child beneath it is still "beneath our own cgroup".
    bool own_is_root = false;
    bool operator==(const CgroupHierarchy&) const = default;
};

// Joins the two files. Hierarchies whose mount does not expose our own cgroup (mounted
// from a subtree we are not in) are left out: we must never create cgroups elsewhere.
std::vector<CgroupHierarchy> parse_cgroup_hierarchies(std::string_view proc_self_cgroup,
                                                      std::string_view mountinfo);

// parse_cgroup_hierarchies() over this process's own /proc files.
std::vector<CgroupHierarchy> discover_cgroup_hierarchies();

}  // namespace aj::helper
