// Joining a namespace by path (linux.namespaces[].path): a Kubernetes pod's containers
// share its net, ipc and uts namespaces; podman's default network passes a netns path.
//
// Who may join: setns(2) into a net, ipc or uts namespace needs CAP_SYS_ADMIN both in the
// joining process's own user namespace and in the one owning the target. The sandbox's
// PID 1 has capabilities only in its own new user namespace, so it can join nothing a
// pod or the host made. The container's monitor joins instead, before launch() clones
// anything, and the clone leaves those namespaces out of its CLONE_NEW* flags: PID 1 and
// the process inherit them (LaunchRequest::shared_namespaces, policy network "host" for
// a joined network). A root caller (host root, or the root of a user namespace, as
// rootless podman's) may so join what its user namespace owns; anyone else gets EPERM at
// create, naming the path.
//
// pid, mount, user and cgroup namespaces are never joined (map_namespaces refuses them:
// the sandbox's own init, root, identity map and cgroup are those namespaces).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/sys.hpp"

namespace aj::oci {

struct JoinedNamespace {
    std::string type;  // the config's name: "network", "ipc" or "uts"
    std::string path;  // as the config gives it
    int clone_flag = 0;  // CLONE_NEWNET, CLONE_NEWIPC or CLONE_NEWUTS
    std::uint64_t inode = 0;  // the namespace's identity (what /proc/PID/ns/* links show)
    sys::UniqueFd fd;  // opened when create planned the container, joined by the monitor
};

// The CLONE_NEW* flag of a namespace type the config may join by path, or 0.
int joinable_namespace_flag(const std::string& type);

// Opens `path` and checks it is a namespace of `type`: a nsfs file (looked at through an
// O_PATH descriptor first, so a fifo or a device named by mistake is never opened), of
// the type NS_GET_NSTYPE reports. Throws aj::Error naming the path otherwise.
JoinedNamespace open_namespace(const std::string& type, const std::string& path);

// setns(2) into each, in this process (the monitor, single-threaded, before launch()).
// Throws aj::Error naming the path and the errno (EPERM: the caller holds no
// CAP_SYS_ADMIN over the namespace's owner).
void join_namespaces(const std::vector<JoinedNamespace>& namespaces);

// This process's own namespaces of the types in `joined`, opened before joining those:
// the runtime's namespaces, where hooks run (hooks.hpp).
std::vector<JoinedNamespace> own_namespaces(const std::vector<JoinedNamespace>& joined);

// (fd, CLONE_NEW* flag) pairs, as run_hooks takes them.
std::vector<std::pair<int, int>> setns_pairs(const std::vector<JoinedNamespace>& namespaces);

// {"network": {"path": "...", "inode": N}, ...}: what state.json records and `state` shows.
nlohmann::json describe(const std::vector<JoinedNamespace>& namespaces);

}  // namespace aj::oci
