// The process `exec` starts in a running container (docs/oci.md, "exec"). Everything is
// decided before the fork (ExecPlan, as launch.cpp's Prepared): the child only executes,
// in this order, which is the security argument:
//
//  1. not dumpable: until execve it holds aurora-runc's memory and fds, and after the uid
//     switch the container's processes share its uid (its memory belongs to the host's
//     user namespace, where they hold no CAP_SYS_PTRACE);
//  2. no supplementary groups (host root's would survive the switch: the container's
//     namespace denies setgroups, so they could not be dropped later);
//  3. into the cgroups of the container's PID 1 in every hierarchy, checked by reading
//     /proc/self/cgroup back (a limit it escaped would be silent), with PID 1's
//     oom_score_adj (never one lower than the caller's own: that needs CAP_SYS_RESOURCE);
//  4. setns(pidfd of PID 1) into its user, mount, ipc, uts, net and cgroup namespaces at
//     once (the pid namespace: the caller joined it before forking, setns(CLONE_NEWPID)
//     only places children); the mount namespace's root is the container's root;
//  4b. with a terminal (exec --tty): a new pseudo-terminal of the container's own devpts
//     (its /dev/pts, opened inside its mount namespace, so never the host's), its master
//     sent to the caller over `terminal_fd` and closed here, its slave made 0, 1 and 2
//     (nothing of the caller's stdio is left) and, after setsid, the controlling
//     terminal (the slave stays owned by the container's root, which opened it);
//  5. the container's one uid and gid, then the cwd (looked up as the process);
//  6. the sandbox's rlimits, then process.json's under them, umask, the capability sets
//     (process.json's, within the container's bounding set), no_new_privs (process.json's
//     or the container's);
//  7. the container's seccomp program, then the config's profile's, last, then execve.
//
// Landlock: the container's process has no Landlock domain in namespaces mode (the mount
// plan is the wall: helper/landlock.hpp), so neither has this one; it sees exactly the
// container's mount namespace.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "helper/caps.hpp"
#include "oci/console.hpp"
#include "helper/rlimits.hpp"
#include "policy/seccomp_compile.hpp"

namespace aj::oci {

struct ExecPlan {
    std::vector<std::string> argv;
    std::vector<std::string> env;
    std::string cwd = "/";
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> additional_gids;  // set only where the container's namespace allows setgroups
    std::optional<mode_t> umask;
    helper::CapabilitySets capabilities;
    bool no_new_privs = true;
    std::vector<helper::RlimitSetting> rlimits;
    // process.json's rlimits (or the container's config's), capped by the container's
    // policy: set after `rlimits` and the quota rlimits, each capped by the hard limit then
    // in force (helper::apply_requested_rlimits).
    std::vector<helper::RlimitRequest> requested_rlimits;
    policy::SeccompProgram seccomp;  // kernel-delivered refusals: no listener to hand over
    // The config's linux.seccomp program, loaded after `seccomp` (seccomp_profile.hpp).
    std::optional<policy::SeccompProgram> profile;
    // PID 1's cgroup directory in each hierarchy, and its /proc/PID/cgroup lines that the
    // process must read back as its own (named hierarchies without controllers left out).
    std::vector<std::string> cgroup_dirs;
    std::vector<std::string> cgroup_lines;
    // PID 1's oom_score_adj (the config's oomScoreAdj, or what create inherited): the
    // process takes it rather than the caller's (an engine may protect itself with -1000).
    std::string oom_score_adj;
    // process.terminal (or --tty): the process runs on a terminal of the container's own
    // devpts of this size, its master handed to the caller (step 4b).
    std::optional<ConsoleSize> terminal;
};

// The lines of a /proc/PID/cgroup text that carry a limit: v1 hierarchies with
// controllers and the v2 line ("0::/path"); named v1 hierarchies ("name=systemd") carry
// none. Sorted, so two processes' can be compared.
std::vector<std::string> limiting_cgroup_lines(const std::string& proc_cgroup);

// The child, forked by a caller that joined PID 1's pid namespace for its children
// (setns(pid1_fd, CLONE_NEWPID)). Never returns: execs, or writes one line saying why
// not to `error_fd` (close-on-exec: its EOF without a line is the caller's success) and
// exits 127/126 (command not found / not executable) or 125 (setup failed). With
// plan.terminal, `terminal_fd` is the child's end of a report channel
// (helper/channel.hpp) that carries the terminal's master as one Terminal message;
// otherwise -1.
[[noreturn]] void run_exec_process(const ExecPlan& plan, int pid1_fd, int error_fd, int terminal_fd);

}  // namespace aj::oci
