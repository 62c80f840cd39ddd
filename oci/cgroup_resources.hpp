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
#include "policy/policy.hpp"

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
// A key that is no runtime-spec resource: in config.json ignored with a warning (the
// spec's extensibility rule, as every unknown property there); in update's --resources,
// the engine's command, refused.
enum class UnknownResource { Ignore, Refuse };
std::vector<ControlWrite> resource_writes(const nlohmann::json& resources, std::vector<std::string>& warnings,
                                          UnknownResource unknown);

// The warnings for what `resources` sets that applies only with a linux.cgroupsPath (all
// but memory and pids, which the sandbox's own cgroup holds): create's and update's.
void warn_not_applied_without_cgroups_path(const nlohmann::json& resources, std::vector<std::string>& warnings);

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

// What the sandbox's own memory and pids limits (the policy's memory_mb and pids, its
// cgroup below the container's) may never exceed, at create and at every update: a policy
// named by io.aurora-jail.policy holds its own values as ceilings (nullopt: it sets none);
// the OCI default policy holds none, its values being defaults the engine's replace
// (docs/oci.md, "update").
struct LimitCeiling {
    std::optional<std::uint64_t> memory_mb, pids;
    bool operator==(const LimitCeiling&) const = default;
};

// linux.resources' positive memory.limit (bytes, as MiB rounded down, at least 1) and
// pids.limit set `limits.memory_mb` and `limits.pids`, each under its ceiling: a value
// above it gets the ceiling, and a warning naming both. Anything else (absent, zero,
// negative: no limit asked) leaves `limits` as it is.
void apply_sandbox_limits(const nlohmann::json& resources, const LimitCeiling& ceiling, policy::Limits& limits,
                          std::vector<std::string>& warnings);

// The sandbox cgroup's memory and pids values for `policy` (helper::cgroup_request_for, as
// the launch library writes them: memory+swap capped at the memory limit, no swap in v2),
// for write_cgroup_resources.
std::vector<ControlWrite> sandbox_limit_writes(const policy::Policy& policy);

}  // namespace aj::oci
