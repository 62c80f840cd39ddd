// The setuid-free launcher's public API: run one command in a fresh sandbox built from a
// Policy (namespaces mode) and report how it ended. launch.cpp is the recipe.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "helper/caps.hpp"
#include "helper/fds.hpp"
#include "helper/rlimits.hpp"
#include "policy/policy.hpp"
#include "policy/seccomp_compile.hpp"
#include "policy/sys.hpp"

namespace aj::helper {

class CallSupervisor;  // helper/seccomp_listener.hpp

// An OCI mount's access-time options (strictatime, noatime, relatime, nodiratime) as
// mount attributes, applied with the mount's others (fsmount for a new file system,
// mount_setattr for a bind). Default: nothing changed (a new file system gets the
// kernel's default, relatime; a bind keeps its source's).
struct AtimeAttrs {
    bool change = false;     // replace the atime mode with `mode`
    std::uint64_t mode = 0;  // MOUNT_ATTR_RELATIME (0), MOUNT_ATTR_NOATIME or MOUNT_ATTR_STRICTATIME
    bool nodiratime = false; // MOUNT_ATTR_NODIRATIME
    bool operator==(const AtimeAttrs&) const = default;
};

// A host path made visible inside the sandbox in addition to the policy's allowed paths
// (the plugin runner binds the staged package read-only and the run directory rw).
struct ExtraBind {
    std::string host;    // absolute host path
    std::string inside;  // absolute path inside the sandbox
    policy::PathMode mode = policy::PathMode::ReadOnly;
    // `host` is a symlink: recreate the link with the same text at `inside` instead of
    // binding what it points to (aurora-runc's rootfs entries: an absolute link such as
    // /lib64 -> /lib/x86_64-linux-gnu must resolve inside the sandbox, never on the host).
    // A `host` that is no longer a symlink when the plan is built is refused (swapped).
    bool recreate_symlink = false;
    // A detached tree the caller captured already (capture_tree, helper/mounts.hpp: the
    // checks and the ro/nosuid/nodev restriction applied), or -1. PID 1 attaches it as it
    // is instead of opening `host`, which then only names it; the caller keeps the fd open
    // until launch() returns. aurora-runc's root monitor captures the bundle this way: its
    // paths are never looked up again, and the sandbox's host uid need not reach them.
    int tree = -1;
    bool noexec = false;  // mounted noexec too (an OCI bind's "noexec")
    AtimeAttrs atime = {};
};

// A copy-on-write view of a host directory (the plugin runner's /work: the staged package
// as `lower`, writes landing in `upper`), mounted by PID 1 inside the sandbox's user
// namespace (unprivileged overlayfs, kernel >= 5.11). `upper` and `work` must be on one
// filesystem and writable by the sandbox's host uid; `lower` is never written.
struct OverlayMount {
    std::string lower;   // absolute host path, read-only
    std::string upper;   // absolute host path: the sandbox's changes
    std::string work;    // absolute host path: overlayfs's own scratch directory
    std::string inside;  // absolute path inside the sandbox
};

// A new instance of a kernel file system the caller lists (aurora-runc: a config's
// proc, tmpfs, devpts, mqueue and sysfs mounts). Listed only with a container layout
// (LaunchRequest::container), mounted in its order among the binds; one at /proc (proc),
// /dev, /dev/shm or /tmp (tmpfs) takes the place of the sandbox's own there (a listed /dev still gets the sandbox's device
// nodes and links, and is read-only; a devpts at /dev/pts gets the /dev/ptmx link).
// nosuid always, nodev except on a devpts (its pseudo-terminals must open); sysfs is
// always read-only.
struct FilesystemMount {
    std::string type;     // proc, tmpfs, devpts, mqueue or sysfs
    std::string source;   // the name /proc/self/mountinfo shows for it ("proc", "shm"...)
    std::string target;   // absolute path inside the sandbox
    std::vector<std::string> options;  // the file system's own: "key=value", or a flag "key"
    bool read_only = false;
    bool noexec = false;
    AtimeAttrs atime = {};
    bool operator==(const FilesystemMount&) const = default;
};

// One of a LaunchRequest's extra_binds or filesystems, by its index there
// (ContainerLayout::order).
struct ListedMount {
    bool filesystem = false;  // filesystems[index], else extra_binds[index]
    std::size_t index = 0;
    bool operator==(const ListedMount&) const = default;
};

// aurora-runc's file system layout (LaunchRequest::container): an OCI config's mounts go
// on top of one another in the config's order, each covering what came before at its
// path (a bind into a tmpfs listed earlier lands in it; a tmpfs listed after a bind at
// the same path hides it), and the container's root may be its rootfs itself.
//   1. the root: `root_tree` when set, else a tmpfs holding extra_binds[0, leading_binds)
//      (the rootfs's entries, parents first), read-only at the end;
//   2. what the sandbox always has and `order` does not list: /proc, /dev (its device
//      nodes and links), /dev/shm and /tmp (the one size-capped scratch tmpfs);
//   3. every mount `order` names, in that order (a listed tmpfs /dev gets the device
//      nodes and links right after it);
//   4. /dev read-only, the sysctls, the masked and read-only paths.
// Binds not named in `order` and not leading are refused.
struct ContainerLayout {
    // A detached tree the caller captured (capture_tree, helper/mounts.hpp: its checks
    // and nosuid applied, and whatever else the caller set on it: read-only, an idmap)
    // mounted as the sandbox's root instead of a tmpfs, or -1. The caller keeps it open
    // until launch() returns and makes sure each mount point the plan needs exists in it
    // (PID 1 creates a missing one only where its identity may write).
    int root_tree = -1;
    std::string root_path;       // the host path `root_tree` was captured from (messages, disk budget)
    bool root_read_only = false; // root_tree is read-only (the caller captured it so)
    std::size_t leading_binds = 0;
    std::vector<ListedMount> order;
};

// The host uid/gid a root caller's sandbox runs as: leased for this run alone
// (helper/id_pool.hpp), the lease held by the caller until launch returns.
struct HostIds {
    uid_t uid = 0;
    gid_t gid = 0;
};

// Who the command is inside the sandbox's user namespace, when the caller chooses it
// (aurora-runc: an OCI config's process.user, capabilities, noNewPrivileges, umask).
// The host side never changes with it: the namespace still maps this one uid and gid onto
// the sandbox's host ids (host_ids, or the caller's own), so only the ids' names inside
// differ, and the capabilities are held in the sandbox's own user namespace, over its own
// namespaces (docs/oci.md, "Identity and capabilities"). The seccomp filter is loaded
// either way: without no_new_privs it is loaded while CAP_SYS_ADMIN is still held.
struct ProcessIdentity {
    uid_t uid = 65534;
    gid_t gid = 65534;
    // Supplementary groups (ids inside), set with setgroups(2) before the switch to gid;
    // only with LaunchRequest::id_maps (a one-id map denies setgroups), and each must be
    // mapped.
    std::vector<gid_t> additional_gids = {};
    CapabilitySets capabilities;  // none by default
    bool no_new_privs = true;
    std::optional<mode_t> umask = std::nullopt;
    // Set after the policy's rlimits and the quota rlimits, each capped by the hard limit
    // then in force: they only ever lower the sandbox's (an OCI config's process.rlimits).
    std::vector<RlimitRequest> rlimits = {};
};

// One line of a uid_map or gid_map: `count` ids from `inside` onto ids from `outside`.
struct IdMapRange {
    std::uint32_t inside = 0;
    std::uint32_t outside = 0;
    std::uint32_t count = 1;
    bool operator==(const IdMapRange&) const = default;
};

// A user namespace's maps with several ids (aurora-runc's block of leased host ids, or a
// config's linux.uidMappings/gidMappings). No host id in them may be 0 (choose_identity
// refuses it). setgroups(2) stays allowed in the namespace: its root may take any mapped
// gid with setgid(2) anyway, so groups set there give it no gid the maps do not already
// give (the caller decides which host ids those are: aurora-runc's block holds none a host
// account has; a config's ranges are the engine's choice).
struct IdMaps {
    std::vector<IdMapRange> uid;
    std::vector<IdMapRange> gid;
};

// A device node the caller made itself (aurora-runc's root monitor: oci/device_nodes.hpp),
// as a detached mount of that one node (open_tree), attached at `path` in the sandbox's
// /dev like LaunchRequest::devices: nosuid, noexec, never nodev. The caller keeps `tree`
// open until launch() returns.
struct DeviceTree {
    std::string path;  // below /dev, inside the sandbox
    int tree = -1;
    bool operator==(const DeviceTree&) const = default;
};

// The command runs on a pseudo-terminal of the sandbox's own devpts (aurora-runc's
// process.terminal, docs/oci.md "Terminals"): PID 1 opens it from the sandbox's
// /dev/pts/ptmx once the root is built (helper/sandbox_terminal.hpp), its slave becomes
// the command's stdin, stdout, stderr and controlling terminal (a new session), and its
// master comes back to the runner over a channel of its own and goes to `on_master`,
// called before before_command (the engine gets the master before create returns). The
// caller's stdio (LaunchRequest::stdio) is then not used: the sandbox holds /dev/null
// besides the terminal. Needs a listed devpts at /dev/pts with nothing bound over it.
// Namespaces mode only.
struct SandboxTerminal {
    unsigned short rows = 0;  // the window size; 0 and 0: the kernel's default
    unsigned short cols = 0;
    // Takes the master; throwing ends the launch with nothing untrusted having run.
    std::function<void(sys::UniqueFd master)> on_master;
};

struct LaunchRequest {
    // The launcher compiles its seccomp program itself (namespaces mode: while PID 1
    // builds the root); the sandbox only loads the result.
    const policy::Policy& policy;
    std::vector<std::string> argv;  // argv[0] is resolved via PATH inside the sandbox
    // Bound read-write at the same path; the default cwd when `cwd` is not set.
    std::optional<std::string> workdir = std::nullopt;
    std::vector<ExtraBind> extra_binds = {};
    std::vector<OverlayMount> overlays = {};  // namespaces mode only
    std::vector<FilesystemMount> filesystems = {};  // namespaces mode, with `container` only
    // Paths inside the sandbox hidden under an empty read-only mount, or made read-only,
    // once everything else is mounted (an OCI config's maskedPaths and readonlyPaths: the
    // sandbox's own /proc/kcore, /proc/sys...). A path that does not exist is skipped; a
    // symlink on the way is refused. Namespaces mode only.
    // Sysctls of the sandbox's own namespaces ("net.ipv4.ip_forward" -> "1"), written by
    // PID 1 through the sandbox's /proc/sys before the masked and read-only paths are
    // applied. The caller makes sure each belongs to a namespace the sandbox owns (a net.*
    // one needs a network namespace of its own): PID 1 may write nothing else anyway.
    std::vector<std::pair<std::string, std::string>> sysctls = {};
    std::vector<std::string> masked_paths = {};
    std::vector<std::string> readonly_paths = {};
    // Host device nodes (char or block, below /dev) bound at the same path in the
    // sandbox's /dev beside its own null, zero..., as they are (mode and owner are the
    // host node's; nosuid, noexec, never nodev): an OCI config's linux.devices, which a
    // user namespace cannot mknod. Opening one still needs the host node's permission
    // bits to let the sandbox's host ids in. Namespaces mode only.
    std::vector<std::string> devices = {};
    // Device nodes the caller made (DeviceTree), bound after `devices`. Namespaces mode only.
    std::vector<DeviceTree> device_trees = {};
    // aurora-runc's container layout (ContainerLayout), or the layout every run gets:
    // a tmpfs root, the binds parents first, then the file systems. Namespaces mode only.
    std::optional<ContainerLayout> container = std::nullopt;
    // CLONE_NEWNET, CLONE_NEWIPC or CLONE_NEWUTS: namespaces the sandbox shares with the
    // caller instead of getting new ones. aurora-runc's monitor joins a pod's namespaces
    // by path (setns) and then launches (oci/namespace_join.hpp): PID 1 could not join
    // them itself, having no capability over their owner. A shared uts namespace keeps
    // its hostname (policy.hostname is not set). Any other flag is refused.
    int shared_namespaces = 0;
    std::optional<std::string> cwd = std::nullopt;          // inside the sandbox; default workdir or "/"
    std::optional<std::uint64_t> timeout_sec = std::nullopt;  // overrides policy.limits.timeout_sec
    // Unset: the command runs as 65534/65534 inside, with no capabilities and no_new_privs
    // (every aurora-jail run). Namespaces mode only.
    std::optional<ProcessIdentity> process = std::nullopt;
    // Required when the caller is root, ignored otherwise (the sandbox is the caller's ids).
    // With id_maps: the host ids process->uid and process->gid map onto.
    std::optional<HostIds> host_ids = std::nullopt;
    // Unset: the namespace maps one uid and one gid and denies setgroups (every
    // aurora-jail run). Set (aurora-runc, a root caller in the initial user namespace
    // only; anyone else is refused): these maps, setgroups allowed, the process's
    // additional_gids set. Namespaces mode only.
    std::optional<IdMaps> id_maps = std::nullopt;
    // Called once the sandbox is set up and before its command may start (a root caller's
    // lease takes its NSS answer here: id_pool.hpp). Throwing ends the launch with nothing
    // untrusted having run.
    std::function<void()> confirm_host_ids = nullptr;
    // Called with PID 1's host pid after confirm_host_ids, once PID 1 is in its namespaces
    // and cgroup and before the command is released; returning releases it. aurora-runc's
    // create/start split waits here (docs/oci.md). Throwing ends the launch with nothing
    // untrusted having run. Not called when PID 1 died during setup.
    std::function<void(pid_t)> before_command = nullptr;
    // When set, called once after before_command: the command to run instead of argv,
    // which until then only described the launch. A warm sandbox is built (namespaces,
    // root, cgroup) before its request exists and takes its command here
    // (runner/warm_pool.hpp); PID 1 receives the command with its last release, so
    // nothing of the sandbox ever held another one. The result's wall time then starts
    // here. Namespaces mode only: rlimit-only mode forks the command earlier and refuses it.
    std::function<std::vector<std::string>()> argv_at_release = nullptr;
    // The caller's fds for the sandbox's 0, 1, 2: relayed (the sandbox never holds them)
    // unless stdio_mode is PassThrough.
    int stdio[3] = {0, 1, 2};
    StdioMode stdio_mode = StdioMode::Relay;
    // Unset (every aurora-jail run): stdio as above. Set: see SandboxTerminal.
    std::optional<SandboxTerminal> terminal = std::nullopt;
    // Whether LaunchResult::enforced gets the full description (only a report shows it).
    // Building it runs code nothing else in a run touches, page by page: ~0.1 ms after
    // every command, measured.
    bool describe_enforcement = true;
    // Refuse (exit 125, before anything runs) a limit no cgroup can hold as a total, as
    // the policy's allow_fallback: false does (run --require-isolation).
    bool require_isolation = false;
    // Namespaces mode: who answers the calls the filter delivers. By default the
    // policy's refusals go to a NotifySupervisor of the launch's own (LaunchResult's
    // denials); `aurora-jail learn` passes DenialDelivery::Learn and its LearnSupervisor.
    policy::DenialDelivery delivery = policy::DenialDelivery::Supervisor;
    CallSupervisor* calls = nullptr;
    // A second program (aurora-runc: the config's linux.seccomp profile), loaded after the
    // policy's as the command's last step before execve: the kernel runs both and the
    // stricter verdict wins. It must not need a listener, and the policy's program must
    // let seccomp(2) through. Unset for every aurora-jail run. Namespaces mode only.
    std::optional<policy::SeccompProgram> extra_seccomp = std::nullopt;
    // The caller's stdout and stderr are files kept for the sandbox (a --detach run's
    // logs): what is written to them counts against the disk budget (disk_budget.hpp).
    bool output_in_disk_budget = false;
};

struct LaunchResult {
    int exit_code = 0;           // command's status; 128+N for signal N; 124 on timeout
    std::optional<int> signal;   // the signal that killed the command, if any
    bool timed_out = false;
    double wall_sec = 0, user_cpu_sec = 0, sys_cpu_sec = 0;
    std::string mode = "namespaces";
    HostIds host;                // the ids the sandbox's processes and files had on the host
    std::optional<std::uint64_t> timeout_sec;  // the wall-clock limit in force (effective_timeout)
    nlohmann::json enforced;     // what this run really enforced (the report's "enforced");
                                 // with describe_enforcement false, only its "cgroup" part
    // The calls the policy refused, as the supervisor answered them (the report's
    // "denials", NotifySupervisor::to_json); an empty array when none were delivered.
    nlohmann::json denials = nlohmann::json::array();
    // What is left to remove once the caller has answered for the run (namespaces mode:
    // the sandbox's cgroup, empty since no process of the sandbox is left). It goes with
    // the last copy of the result: the host daemon's run process replies first.
    std::shared_ptr<void> teardown;
};

// Builds the sandbox, runs argv in it, waits for it. Throws aj::Error for setup
// failures (exit code 125), a command that cannot be found (127) or executed (126).
// Must be called from a single-threaded process: it clones a new user namespace.
// Blocks SIGINT/SIGTERM/SIGHUP/SIGQUIT while it runs and forwards them to the sandbox.
LaunchResult launch(const LaunchRequest& request);

}  // namespace aj::helper
