// The container's file system as the launch request gets it (helper::ContainerLayout):
// the config's mounts in the config's order on top of the container's root.
// - A root caller's monitor makes the rootfs itself the container's root: its missing
//   mount points are created in it (as runc does), it is captured as one detached tree
//   (helper::capture_tree: the capture checks, nosuid and nodev, read-only with
//   root.readonly) and idmapped where the guard allows (rootfs_idmap.hpp); the config's
//   binds are captured too (bundle_capture.hpp).
// - An ordinary caller may not clone mounts in the host's mount namespace: its container
//   keeps a tmpfs root with the rootfs's entries bound into it, by path.
#pragma once

#include <string>
#include <vector>

#include "helper/launch.hpp"
#include "helper/userns.hpp"
#include "oci/config.hpp"
#include "policy/sys.hpp"

namespace aj::oci {

struct ContainerFiles {
    std::vector<helper::ExtraBind> binds;  // LaunchRequest::extra_binds
    helper::ContainerLayout layout;        // LaunchRequest::container
    std::vector<sys::UniqueFd> trees;      // held until launch() returns
    std::vector<std::string> warnings;     // for the log
};

// `root_caller`: the sandbox's identity when the caller is root (its maps idmap the
// rootfs), else null. Throws aj::Error naming what could not be made or captured.
ContainerFiles container_files(const ContainerPlan& plan, const helper::Identity* root_caller);

}  // namespace aj::oci
