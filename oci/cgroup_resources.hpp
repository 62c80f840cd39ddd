// linux.cgroupsPath and linux.resources as runc reads them (docs/oci.md, "The container's
// cgroup"): where the container's cgroup lies in each hierarchy and which control files
// get which values, for cgroup v1 and v2. Pure: nothing here touches the file system.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "helper/cgroup_discovery.hpp"

namespace aj::oci {

// linux.cgroupsPath, cleaned: the components below the place it is relative to.
struct CgroupsPath {
    std::vector<std::string> components;  // never empty, never "." or ".."
    bool absolute = true;                 // from the hierarchy's root; else from our own cgroup
    std::string text() const;             // "/a/b" or "a/b"
};

// Parses linux.cgroupsPath. Without --systemd-cgroup: a path, absolute or relative, as
// runc's cgroupfs manager takes it. With it: runc's "slice:prefix:name" form, placed where
// systemd would put the unit (/a.slice/a-b.slice/prefix-name.scope); a slice of "" is
// system.slice. A ".." component, an empty path, or a malformed slice is refused (Error
// naming linux.cgroupsPath).
CgroupsPath parse_cgroups_path(const std::string& text, bool systemd);

// The container's directory in one hierarchy: an absolute path below its mount point; a
// relative one below our own cgroup (v1) or its parent (v2: our own cgroup has members,
// so it may not hold controllers for children), as runc places them.
std::string cgroup_dir_in(const helper::CgroupHierarchy& h, const CgroupsPath& path);

// One value of linux.resources: its file and value in v1 and in v2 (an empty file: no
// equivalent in that version).
struct ControlWrite {
    std::string controller;  // memory, cpu, cpuset, pids or devices
    std::string v1_file, v1_value;
    std::string v2_file, v2_value;
    // A file that may be missing on a host (memory.memsw.* without swap accounting,
    // cpu.rt_* without RT group scheduling): then a warning, not a failed create.
    bool optional = false;
    bool operator==(const ControlWrite&) const = default;
};

// linux.resources' memory, cpu, pids and devices, in the order they must be written (a
// period before its quota, a memory limit before its memory+swap limit, device rules as
// listed). Anything else set (blkio, hugepageLimits, network, rdma, unified, kernel
// memory) gets a warning. Malformed values are refused (Error naming the field).
// Device rules are v1 devices.allow/deny writes: cgroup v2 has no file for them (a BPF
// program would be needed), so there they are not applied, with a warning.
std::vector<ControlWrite> resource_writes(const nlohmann::json& resources, std::vector<std::string>& warnings);

// A device node the container has: its type ('c', 'b' or 'p'), numbers (absent: any) and
// the access its rule grants.
struct DeviceNumber {
    char type = 'c';
    std::optional<std::uint32_t> major, minor;
    std::string access;
};

// devices.allow writes appended after the config's rules, so they are applied last: "rw"
// for the sandbox's own nodes (the spec's default devices are always available, whatever
// the rules say), "m" alone for the config's linux.devices (create's monitor, already in
// the container's cgroup, makes them; whether the container may read or write one is
// the config's rules' call).
std::vector<ControlWrite> device_allows(const std::vector<DeviceNumber>& nodes);

}  // namespace aj::oci
