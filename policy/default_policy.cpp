// The hardened built-in policy: system directories read-only, no network, the default
// deny set on, and caps on memory, CPU, pids, files and wall time.
#include "policy/default_policy.hpp"

namespace aj::policy {

Policy default_policy() {
    Policy p;
    // On merged-/usr systems the last four are symlinks into /usr; the sandbox recreates
    // them as symlinks rather than binding them.
    for (const char* dir : {"/usr", "/bin", "/sbin", "/lib", "/lib64"})
        p.allowed_paths.push_back(PathRule{dir, PathMode::ReadOnly});
    p.action = SyscallAction{BlockedAction::Errno, EPERM};
    p.default_deny = true;
    p.limits.memory_mb = 512;
    p.limits.cpu_sec = 60;
    p.limits.cpus = 1.0;  // one core of bandwidth: a spinning plugin leaves the host the rest
    p.limits.pids = 256;
    p.limits.open_files = 1024;
    p.limits.file_size_mb = 1024;
    p.limits.tmpfs_mb = 64;
    // What a run may add to host file systems: with the watch's measured overshoot
    // (docs/policy.md, "Disk budget") a default run stays far below a gigabyte, yet a
    // build or a package's data fits.
    p.limits.disk_mb = 256;
    p.limits.files = 20000;
    p.limits.timeout_sec = 300;
    p.network = NetworkMode::None;
    p.hostname = "aurora-jail";
    p.env.pass = {"TERM", "LANG"};
    p.env.set = {{"PATH", "/usr/local/bin:/usr/bin:/bin"}, {"HOME", "/tmp"}};
    p.allow_fallback = true;
    p.system_view = true;  // the read-only system part of /etc, and the sandbox's own passwd
    return p;
}

}  // namespace aj::policy
