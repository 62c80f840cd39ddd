// What every process of a container is held to, recorded by create in the container's
// state directory (kRestrictionsFile) so that `exec` gives a new process exactly the
// restrictions of the container's own (docs/oci.md, "exec"): the resolved policy (its
// seccomp program and rlimits are compiled from it again, deterministically), the
// process's uid and gid at create (exec checks ids against PID 1's maps), its capability
// bounding set, its no_new_privs, the config's seccomp profile and its process.rlimits. Written before the
// monitor forks, in a directory only the caller's uid may write (open_state_root), and
// read back as it was: never from the bundle or the policy store again, which may have
// changed since create.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include <nlohmann/json.hpp>

#include "helper/rlimits.hpp"
#include "oci/cgroup_resources.hpp"
#include "policy/policy.hpp"

namespace aj::oci {

struct ContainerRestrictions {
    policy::Policy policy;
    uid_t uid = 0;  // the container's process's uid inside, as create planned it
    gid_t gid = 0;
    std::uint64_t bounding = 0;  // its capability bounding set (one bit per capability)
    bool no_new_privs = false;
    // The config's linux.seccomp as written (null: none), compiled again for every exec
    // and loaded after the policy's program (seccomp_profile.hpp).
    nlohmann::json seccomp_profile = nullptr;
    // The config's process.rlimits as the container's process got them (capped by the
    // policy): an exec whose process.json lists none gets these, as runc gives it the
    // config's. Empty in a record made before they were applied.
    std::vector<helper::RlimitRequest> rlimits = {};
    // What update may raise the policy's memory_mb and pids to (cgroup_resources.hpp). A
    // record made before update existed holds none: its limits as recorded are the ceiling.
    LimitCeiling limit_ceiling = {};
};

nlohmann::json to_json(const ContainerRestrictions& r);
// Throws aj::Error naming what is missing or malformed.
ContainerRestrictions container_restrictions_from_json(const nlohmann::json& j);

// The record in the container's state directory `dir_fd` (container `id`); an Error naming
// the container when it has none (created by an older aurora-runc) or it cannot be read.
ContainerRestrictions read_container_restrictions(int dir_fd, const std::string& id);

}  // namespace aj::oci
