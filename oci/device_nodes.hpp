// linux.devices: the device nodes and fifos a config lists for the container's /dev.
//
// A user namespace cannot mknod, and a file system mounted from inside one is nodev. So
// a root caller's monitor, still in the host's user namespace and before launch() clones
// anything, makes the nodes itself: one small private tmpfs as a detached mount (fsopen,
// fsmount: never attached anywhere in the host's tree), nosuid and noexec but with device
// access, one node in it per listed device with the config's type, numbers and mode; each
// node then becomes a detached mount of its own (open_tree) that the sandbox's PID 1
// attaches at the listed path in the container's /dev (helper::DeviceTree). Once PID 1
// exists, and before the container's process may run, each node gets the config's owner:
// the container's uid and gid mapped to host ids through the user namespace's maps as
// the kernel holds them (/proc/PID1/uid_map, gid_map), whatever their shape; an id they
// do not map stays host root's, so the container sees nobody's node and only the mode's
// "other" bits let it in.
//
// What this grants: a listed device is the engine's grant (docs/oci.md, "Devices";
// SECURITY.md): the container opens the device its numbers name with the permissions the
// config gives the node. Refused: paths outside /dev, and replacing the sandbox's own
// null, zero, full, random, urandom or tty with other numbers.
//
// Anyone else (an ordinary caller, a root of a user namespace other than the host's)
// cannot make device nodes: the host's own node at the listed path is bound instead,
// when it is of the listed type and numbers (host_device_binds).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "helper/launch.hpp"
#include "policy/sys.hpp"

namespace aj::oci {

struct DeviceNode {
    std::string path;     // below /dev
    char type = 'c';      // 'c' (a 'u' is a 'c'), 'b' or 'p'
    std::uint32_t major = 0;
    std::uint32_t minor = 0;
    mode_t mode = 0666;   // permission bits (runc's default when fileMode is absent)
    std::uint32_t uid = 0;  // the container's ids (not the host's)
    std::uint32_t gid = 0;
    bool operator==(const DeviceNode&) const = default;
};

// Whether this process can make device nodes that work in a sandbox: root of the host's
// user namespace.
bool can_make_device_nodes();

// An ordinary caller's devices: the host's node at each path, which must be a char or
// block device of the listed type and numbers (a fifo, a missing node or other numbers
// are refused by name). The bound node keeps the host's mode and owner: a listed mode or
// id that differs is a warning. Returns the paths for LaunchRequest::devices.
std::vector<std::string> host_device_binds(const std::vector<DeviceNode>& nodes, std::vector<std::string>& warnings);

// `id` of a user namespace, as the host sees it through `map` (the text of a uid_map or
// gid_map: lines "INSIDE OUTSIDE COUNT"), or nullopt when the map does not hold it.
std::optional<std::uint32_t> host_id_of(const std::string& map, std::uint32_t id);

// The nodes a root monitor made (above). Movable; closing it drops the private tmpfs
// once the sandbox's mounts of it are gone too.
class MadeDevices {
public:
    // Makes the tmpfs and every node (type, numbers, mode; owned by host root for now).
    explicit MadeDevices(const std::vector<DeviceNode>& nodes);
    // For LaunchRequest::device_trees; valid while this object lives.
    std::vector<helper::DeviceTree> trees() const;
    // Gives each node the config's owner, mapped through the user namespace of `pid1`
    // (the sandbox's PID 1, before the container's process is released). An id the
    // namespace does not map is left host root's (nobody's inside): one warning each.
    std::vector<std::string> set_owners(pid_t pid1) const;

private:
    std::vector<DeviceNode> nodes_;
    sys::UniqueFd tmpfs_;
    std::vector<sys::UniqueFd> trees_;
};

}  // namespace aj::oci
