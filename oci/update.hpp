// aurora-runc update: new linux.resources for a created or running container (docs/oci.md,
// "update"), from a LinuxResources document (--resources FILE, or - for stdin: what
// containerd's shim and CRI-O pass, podman a file) or runc's flags. The container's cgroup
// gets them through the same mapping as create (cgroup_resources.hpp); memory.limit and
// pids.limit also set the sandbox's own limits, never above the policy's ceiling.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "oci/commands.hpp"

namespace aj::oci {

struct UpdateOptions {
    std::string id;
    std::string resources_file;  // --resources/-r: a file, "-" for stdin; empty: the flags
    // runc's resource flags as given (name without dashes, value), in order; ignored with
    // --resources, as runc ignores them.
    std::vector<std::pair<std::string, std::string>> flags;
};

// The names (without dashes) of runc's update flags, all of which take a value.
const std::vector<std::string>& update_flag_names();

// The flags as a LinuxResources document, as runc reads them: memory sizes in bytes or
// with a k/m/g/t/p suffix (powers of 1024), -1 for no limit; numbers otherwise. Throws
// aj::Error naming a flag whose value is not one, or one aurora-runc cannot apply at all
// (--l3-cache-schema, --mem-bw-schema: Intel RDT).
nlohmann::json resources_from_flags(const std::vector<std::pair<std::string, std::string>>& flags);

int cmd_update(const Globals& g, const UpdateOptions& o);

}  // namespace aj::oci
