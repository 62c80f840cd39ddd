// User namespace and identity: which namespaces a run gets, who the sandbox is inside and
// outside, the uid/gid maps the runner writes, and the child's switch to that identity.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "policy/error.hpp"
#include "policy/policy.hpp"

namespace aj::helper {

// The sandbox always runs as 65534/65534 inside. Outside it is the caller's own ids, or
// host 65534/65534 when the caller is root, so that a root caller's sandbox can never use
// root's owner or group permission bits on host files.
struct Identity {
    uid_t inside_uid = 65534;
    gid_t inside_gid = 65534;
    uid_t outside_uid = 0;
    gid_t outside_gid = 0;
};
Identity choose_identity();

// CLONE_NEW* flags for this policy (no CLONE_NEWNET when the network is "host").
int namespace_flags(const policy::Policy& policy);
// Names for the report: ["user", "mount", "pid", ...].
std::vector<std::string> namespace_names(int flags);

// A root caller drops its supplementary groups before cloning: with setgroups denied the
// sandbox could never drop them itself, and they would keep granting host group access.
// Inside a user namespace that denies setgroups (`unshare -r`, some container runtimes)
// nobody can drop them, this process included: it keeps them, as everything it starts does.
void drop_supplementary_groups_if_root();

// Whether this process's user namespace lets it call setgroups(2) ("deny" in
// /proc/self/setgroups forbids it to every process of the namespace, root included).
bool setgroups_allowed();

// Whether uid and gid exist in this process's user namespace (its uid_map and gid_map
// name them), i.e. whether setresuid/setresgid to them can succeed at all.
bool ids_mapped(uid_t uid, gid_t gid);

// The kernel refused the clone into new namespaces itself (EPERM, EACCES, EINVAL,
// ENOSPC, EUSERS, ENOSYS): nothing has run, so a caller may fall back to rlimit-only mode.
class NamespacesRefused : public Error {
public:
    using Error::Error;
};

// fork(2)-like clone into new namespaces: returns 0 in the child, its pid in the parent.
// The caller must be single-threaded. Throws NamespacesRefused when the kernel (or an LSM,
// or a container's seccomp profile) will not create them, Error for any other failure.
// With cgroup_fd >= 0 (a cgroup2 directory) clone3(CLONE_INTO_CGROUP) is tried first: the
// child is born in that cgroup, no migration needed; *in_cgroup says whether that worked
// (clone3 may be missing or filtered: then a plain clone, and the caller places the child).
pid_t clone_into_namespaces(int flags, int cgroup_fd = -1, bool* in_cgroup = nullptr);

// Runner side, before releasing the child: setgroups "deny", uid_map, gid_map.
void write_id_maps(pid_t child, const Identity& id);

// Child side, right after being released: really switch kuid/kgid to the mapped ids
// (the map alone leaves a root caller's child at kuid 0). No uid 0 is mapped inside, so
// the kernel keeps the child's namespace capabilities for the setup that follows.
void become_sandbox_user(const Identity& id);

}  // namespace aj::helper
