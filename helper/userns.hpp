// User namespace and identity: which namespaces a run gets, who the sandbox is inside and
// outside, the uid/gid maps the runner writes, and the child's switch to that identity.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "helper/launch.hpp"
#include "policy/error.hpp"
#include "policy/policy.hpp"

namespace aj::helper {

// The sandbox runs as 65534/65534 inside, or as the ids a caller's ProcessIdentity names
// (aurora-runc: the OCI config's uid/gid; one uid and one gid either way). Outside it is
// the caller's own ids, or,
// when the caller is root, the host ids leased for this run alone (helper/id_pool.hpp):
// a root caller's sandbox never has root's owner or group permission bits on host files,
// nor any other account's or sandbox's. Throws when root gives no leased ids. A "root"
// of a user namespace other than the initial one (a container's, `unshare -r`) has no
// host ids to lease: its sandbox is mapped to namespaced_root_ids().
//
// With `maps` (LaunchRequest::id_maps: aurora-runc, a host root caller only) the namespace
// maps those ranges instead, setgroups stays allowed and the process's additional gids are
// set; outside_uid/gid are then the host ids the inside ones map onto (checked against
// `leased`), and every additional gid must be mapped. Throws naming what does not fit.
struct Identity {
    uid_t inside_uid = 65534;
    gid_t inside_gid = 65534;
    uid_t outside_uid = 0;
    gid_t outside_gid = 0;
    bool leased = false;  // outside ids leased for this run (host root caller)
    std::optional<IdMaps> maps = std::nullopt;
    std::vector<gid_t> groups = {};  // set with setgroups(2) (only with maps)
};
Identity choose_identity(const std::optional<HostIds>& leased,
                         const std::optional<ProcessIdentity>& process = std::nullopt,
                         const std::optional<IdMaps>& maps = std::nullopt);

// The host id `inside` maps onto under `ranges`, or nullopt when unmapped.
std::optional<std::uint32_t> map_to_host(const std::vector<IdMapRange>& ranges, std::uint32_t inside);

// A namespaced root's sandbox, outside: 65534 of its namespace where that namespace maps
// it (a container's range), else the caller's own ids, as for an ordinary caller
// (`unshare -r` maps uid 0 alone, and a map naming an unmapped id is refused with EPERM).
HostIds namespaced_root_ids();

// True when this process is in the initial user namespace (its uid_map maps everything):
// only there is uid 0 the host's root, and only there are host ids leased.
bool in_initial_user_namespace();

// Runner side, around the clone of the sandbox's user namespace: the kernel makes the
// creator's effective uid/gid the namespace's owner, and charges the owner for everything
// the namespace's processes create (inotify instances, fanotify groups, mqueue bytes,
// pending signals, nested namespaces). While this object lives, a root runner's effective
// ids are the sandbox's host ids, so those charges land on the sandbox's own quota, never
// root's. It keeps its capabilities meanwhile (SECBIT_NO_SETUID_FIXUP): a cgroup to be
// cloned into stays writable, and a kernel that lets only CAP_SYS_ADMIN create user
// namespaces still does. The clone's child starts with the namespace's default securebits.
// restore() (or the destructor) puts back euid/egid, securebits, the dumpable flag and
// the parent-death signal a credential change clears; a runner that cannot be restored
// aborts rather than go on half-switched. A no-op unless the ids are leased.
class CreatorIdentity {
public:
    explicit CreatorIdentity(const Identity& id);
    ~CreatorIdentity();
    CreatorIdentity(const CreatorIdentity&) = delete;
    CreatorIdentity& operator=(const CreatorIdentity&) = delete;
    void restore() noexcept;

private:
    bool active_ = false;
    uid_t euid_ = 0;
    gid_t egid_ = 0;
    int securebits_ = 0;
    int dumpable_ = 0;
    int pdeath_signal_ = 0;
    pid_t parent_ = 0;
};

// CLONE_NEW* flags for this policy (no CLONE_NEWNET when the network is "host"), less the
// namespaces the caller shares with the sandbox (LaunchRequest::shared_namespaces: only
// CLONE_NEWNET, CLONE_NEWIPC and CLONE_NEWUTS; anything else throws).
int namespace_flags(const policy::Policy& policy, int shared = 0);
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

// The sandbox's uid_map and gid_map, as written (uid_map(5) lines; id.maps' lines when
// there are maps): what write_id_maps gives the sandbox's namespace, and what an idmapped
// mount needs to show on-disk ids as the sandbox's own (aurora-runc's rootfs,
// oci/rootfs_root.hpp).
std::string uid_map_lines(const Identity& id);
std::string gid_map_lines(const Identity& id);

// Runner side, before releasing the child: setgroups "deny", uid_map, gid_map; with
// id.maps, their lines and setgroups left "allow".
void write_id_maps(pid_t child, const Identity& id);

// Child side, right after being released: really switch kuid/kgid to the mapped ids
// (the map alone leaves a root caller's child at kuid 0). The kernel keeps the child's
// namespace capabilities for the setup that follows: either no uid 0 is mapped inside
// (no "root" to lose), or the inside uid is 0 (the child stays the namespace's root).
// With id.maps, the supplementary groups are set first (id.groups, maybe none).
void become_sandbox_user(const Identity& id);

}  // namespace aj::helper
