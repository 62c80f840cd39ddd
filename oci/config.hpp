// A bundle's config.json (OCI runtime-spec) turned into what the launch library runs:
// a Policy, argv, cwd and binds. Every field is either mapped, refused with an error that
// names it, or accepted with a warning saying what happens instead (docs/oci.md, the
// mapping table); nothing is half-enforced in silence.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "helper/launch.hpp"
#include "oci/cgroup_resources.hpp"
#include "oci/device_nodes.hpp"
#include "oci/console.hpp"
#include "oci/hooks.hpp"
#include "oci/namespace_join.hpp"
#include "policy/policy.hpp"
#include "policy/seccomp_compile.hpp"
#include "policy/sys.hpp"

namespace aj::oci {

// The annotation naming a stored aurora-jail policy to start from.
inline constexpr const char* kPolicyAnnotation = "io.aurora-jail.policy";

struct ContainerPlan {
    policy::Policy policy;
    std::vector<std::string> argv;
    std::string cwd = "/";
    std::vector<helper::ExtraBind> binds;  // the rootfs's entries, then the config's bind mounts
    std::vector<helper::FilesystemMount> filesystems;  // the config's proc, tmpfs, ... in order
    std::size_t rootfs_entries = 0;        // binds[0, rootfs_entries) are the rootfs's entries
    // The config's mounts in the config's order (binds[rootfs_entries...] and every
    // filesystem), mounted so (helper::ContainerLayout).
    std::vector<helper::ListedMount> mount_order;
    std::string rootfs;                    // absolute host path
    bool root_readonly = false;            // root.readonly
    // The rootfs directory, opened once when it was listed: the root monitor captures its
    // entries below this fd (bundle_capture.hpp), never through the path again.
    sys::UniqueFd rootfs_dir;
    nlohmann::json annotations = nlohmann::json::object();
    std::vector<std::pair<std::string, std::string>> sysctls;  // linux.sysctl, namespaced ones only
    std::vector<std::string> masked_paths;    // linux.maskedPaths
    std::vector<std::string> readonly_paths;  // linux.readonlyPaths
    std::optional<int> oom_score_adj;      // process.oomScoreAdj: PID 1's, inherited by the process
    // linux.cgroupsPath as written (create interprets it: --systemd-cgroup changes its
    // form) and linux.resources' values for that cgroup (oci/container_cgroup.hpp).
    std::string cgroups_path;
    std::vector<ControlWrite> cgroup_writes;
    // What the sandbox's memory and pids limits may never exceed (create and update).
    LimitCeiling limit_ceiling;
    // process.user, capabilities, noNewPrivileges: who the process is inside its user
    // namespace (docs/oci.md, "Identity and capabilities").
    helper::ProcessIdentity process;
    // process.user.additionalGids (without repeats), and linux.uidMappings/gidMappings as
    // written: what is mapped and set is decided at create (container_ids.hpp).
    std::vector<gid_t> additional_gids;
    std::vector<helper::IdMapRange> uid_mappings;
    std::vector<helper::IdMapRange> gid_mappings;
    // linux.namespaces with a path, opened and checked at create; the monitor joins them
    // before the clone (namespace_join.hpp). shared_namespaces: their CLONE_NEW* flags.
    std::vector<JoinedNamespace> joined_namespaces;
    int shared_namespaces = 0;
    Hooks hooks;  // run on the host, with the caller's privileges (hooks.hpp)
    // linux.devices as listed (the sandbox's own nodes left out): a root monitor makes
    // them (device_nodes.hpp); for anyone else create fills `devices` with the host's own
    // nodes at those paths (host_device_binds).
    std::vector<DeviceNode> device_nodes;
    std::vector<std::string> devices;
    // process.terminal true: the process runs on a terminal of the container's own devpts
    // of this size (process.consoleSize), its master sent to --console-socket (console.hpp).
    std::optional<ConsoleSize> terminal;
    // linux.seccomp as written (null when absent) and its compiled program, loaded on top
    // of the policy's (seccomp_profile.hpp). exec compiles the recorded profile again.
    nlohmann::json seccomp_profile;
    std::optional<policy::SeccompProgram> seccomp_program;
    std::vector<std::string> warnings;     // one line each, for the log
};

// The policy a container starts from without the annotation: the built-in hardened policy
// without host paths (the rootfs replaces them), wall-clock timeout, CPU-seconds cap or CPU
// bandwidth cap (a service runs for weeks, on what the engine gives it).
policy::Policy oci_default_policy();

// Reads BUNDLE/config.json (bundle: an absolute path) and maps it. `policy_dirs`: where a
// stored policy named by the annotation is looked up. Throws aj::Error naming the field.
ContainerPlan plan_container(const std::string& bundle, const std::vector<std::string>& policy_dirs);

// The same, from an already parsed config (unit tests).
ContainerPlan plan_container(const nlohmann::json& config, const std::string& bundle,
                             const std::vector<std::string>& policy_dirs);

// An `exec`'s process.json (the config's `process` object) over the container's recorded
// policy: argv, env (the policy's env replaced), cwd, user, capabilities, noNewPrivileges,
// rlimits narrowing the policy's limits, terminal and consoleSize, exactly as create maps
// the config's process.
// The caller holds the result to the container's own restrictions (oci/exec.hpp).
ContainerPlan plan_exec_process(const nlohmann::json& process, const policy::Policy& container_policy);

}  // namespace aj::oci
