#include "helper/userns.hpp"

#include <grp.h>
#include <linux/sched.h>
#include <linux/securebits.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include "policy/sys.hpp"

namespace aj::helper {

std::optional<std::uint32_t> map_to_host(const std::vector<IdMapRange>& ranges, std::uint32_t inside) {
    for (const IdMapRange& r : ranges)
        if (inside >= r.inside && inside - r.inside < r.count) return r.outside + (inside - r.inside);
    return std::nullopt;
}

namespace {

// The checks choose_identity makes of a several-id map (see userns.hpp).
void adopt_maps(Identity& id, const IdMaps& maps, const std::optional<HostIds>& leased,
                const std::optional<ProcessIdentity>& process) {
    if (::geteuid() != 0 || !in_initial_user_namespace())
        throw Error("several ids can be mapped only by root in the initial user namespace");
    if (!process || !leased) throw Error("several-id maps need the process's identity and its host ids");
    if (maps.uid.empty() || maps.gid.empty()) throw Error("several-id maps need a uid and a gid map");
    for (const auto* ranges : {&maps.uid, &maps.gid})
        for (const IdMapRange& r : *ranges)
            if (r.count == 0 || r.outside == 0 || std::uint64_t{r.outside} + r.count > 0xFFFFFFFFu)
                throw Error("an id map range " + std::to_string(r.inside) + " " + std::to_string(r.outside) + " " +
                            std::to_string(r.count) + " is empty, holds host id 0 or overflows");
    if (map_to_host(maps.uid, id.inside_uid) != leased->uid || map_to_host(maps.gid, id.inside_gid) != leased->gid)
        throw Error("the id maps do not map the process's uid " + std::to_string(id.inside_uid) + " and gid " +
                    std::to_string(id.inside_gid) + " onto its host ids");
    for (const gid_t g : process->additional_gids)
        if (!map_to_host(maps.gid, g))
            throw Error("additional gid " + std::to_string(g) + " is not mapped in the container's user namespace");
    id.outside_uid = leased->uid;
    id.outside_gid = leased->gid;
    id.leased = true;
    id.maps = maps;
    id.groups = process->additional_gids;
}

}  // namespace

Identity choose_identity(const std::optional<HostIds>& leased, const std::optional<ProcessIdentity>& process,
                         const std::optional<IdMaps>& maps) {
    Identity id;
    if (process) {
        id.inside_uid = process->uid;
        id.inside_gid = process->gid;
    }
    if (maps) {
        adopt_maps(id, *maps, leased, process);
        return id;
    }
    if (process && !process->additional_gids.empty())
        throw Error("additional gids need a several-id map (a one-id namespace denies setgroups)");
    if (::geteuid() == 0 && !in_initial_user_namespace()) {
        const HostIds ids = namespaced_root_ids();
        id.outside_uid = ids.uid;
        id.outside_gid = ids.gid;
    } else if (::geteuid() == 0) {
        if (!leased || leased->uid == 0 || leased->gid == 0)
            throw Error("a root caller's sandbox needs host ids leased for it (helper/id_pool.hpp)");
        id.outside_uid = leased->uid;
        id.outside_gid = leased->gid;
        id.leased = true;
    } else {
        id.outside_uid = ::geteuid();
        id.outside_gid = ::getegid();
    }
    return id;
}

HostIds namespaced_root_ids() {
    constexpr uid_t kNobodyId = 65534;
    if (ids_mapped(kNobodyId, kNobodyId)) return HostIds{kNobodyId, kNobodyId};
    return HostIds{::geteuid(), ::getegid()};
}

bool in_initial_user_namespace() {
    // The initial namespace maps all 2^32-1 ids onto themselves; a child cannot (its
    // parent's ids are a subset).
    std::string map;
    try {
        map = sys::read_file("/proc/self/uid_map", 4096);
    } catch (const Error&) {
        return false;
    }
    // Its one line, in words: "0 0 4294967295".
    std::istringstream words(map);
    std::string inside, outside, count, more;
    words >> inside >> outside >> count;
    return inside == "0" && outside == "0" && count == "4294967295" && !(words >> more);
}

CreatorIdentity::CreatorIdentity(const Identity& id) {
    if (!id.leased || ::geteuid() != 0) return;
    euid_ = ::geteuid();
    egid_ = ::getegid();
    securebits_ = sys::check(::prctl(PR_GET_SECUREBITS, 0, 0, 0, 0), "PR_GET_SECUREBITS");
    dumpable_ = sys::check(::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), "PR_GET_DUMPABLE");
    sys::check(::prctl(PR_GET_PDEATHSIG, &pdeath_signal_, 0, 0, 0), "PR_GET_PDEATHSIG");
    parent_ = ::getppid();
    sys::check(::prctl(PR_SET_SECUREBITS, securebits_ | SECBIT_NO_SETUID_FIXUP, 0, 0, 0),
               "keeping capabilities across the switch to the sandbox's host uid (PR_SET_SECUREBITS)");
    active_ = true;
    try {
        sys::check(::setresgid(static_cast<gid_t>(-1), id.outside_gid, static_cast<gid_t>(-1)),
                   "becoming the sandbox's host gid " + std::to_string(id.outside_gid) + " (setresgid)");
        sys::check(::setresuid(static_cast<uid_t>(-1), id.outside_uid, static_cast<uid_t>(-1)),
                   "becoming the sandbox's host uid " + std::to_string(id.outside_uid) + " (setresuid)");
    } catch (...) {
        restore();
        throw;
    }
}

CreatorIdentity::~CreatorIdentity() { restore(); }

void CreatorIdentity::restore() noexcept {
    if (!active_) return;
    active_ = false;
    // uid first: back at euid 0, the gid and securebits changes are certainly allowed.
    const bool ok = ::setresuid(static_cast<uid_t>(-1), euid_, static_cast<uid_t>(-1)) == 0 &&
                    ::setresgid(static_cast<gid_t>(-1), egid_, static_cast<gid_t>(-1)) == 0 &&
                    ::prctl(PR_SET_SECUREBITS, securebits_, 0, 0, 0) == 0 &&
                    ::prctl(PR_SET_DUMPABLE, dumpable_, 0, 0, 0) == 0 &&
                    ::prctl(PR_SET_PDEATHSIG, pdeath_signal_, 0, 0, 0) == 0;
    if (!ok) {
        std::fprintf(stderr, "aurora-jail: cannot restore the runner's identity after creating the sandbox's "
                             "user namespace: %s\n", errno_text(errno).c_str());
        std::abort();
    }
    // The parent died while the signal was cleared: deliver what the kernel would have.
    if (pdeath_signal_ != 0 && ::getppid() != parent_) ::kill(::getpid(), pdeath_signal_);
}

int namespace_flags(const policy::Policy& policy, int shared) {
    if ((shared & ~(CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)) != 0)
        throw Error("run: only net, ipc and uts namespaces may be shared with the caller");
    int flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS |
                CLONE_NEWCGROUP;
    if (policy.network == policy::NetworkMode::None) flags |= CLONE_NEWNET;
    return flags & ~shared;
}

std::vector<std::string> namespace_names(int flags) {
    static const std::pair<int, const char*> kNames[] = {
        {CLONE_NEWUSER, "user"}, {CLONE_NEWNS, "mount"},   {CLONE_NEWPID, "pid"},
        {CLONE_NEWNET, "net"},   {CLONE_NEWIPC, "ipc"},    {CLONE_NEWUTS, "uts"},
        {CLONE_NEWCGROUP, "cgroup"},
    };
    std::vector<std::string> out;
    for (const auto& [flag, name] : kNames)
        if (flags & flag) out.emplace_back(name);
    return out;
}

void drop_supplementary_groups_if_root() {
    if (::geteuid() != 0 || !setgroups_allowed()) return;
    sys::check(::setgroups(0, nullptr), "dropping supplementary groups (setgroups)");
}

namespace {

// Whether `id` falls in one of the "INSIDE OUTSIDE COUNT" lines of a uid_map or gid_map.
bool in_map(const std::string& map, unsigned long id) {
    std::istringstream lines(map);
    unsigned long inside = 0, outside = 0, count = 0;
    while (lines >> inside >> outside >> count)
        if (id >= inside && id - inside < count) return true;
    return false;
}

}  // namespace

bool setgroups_allowed() {
    // Kernels before 3.19 have no such file, and no such restriction.
    if (::access("/proc/self/setgroups", F_OK) != 0 && errno == ENOENT) return true;
    return sys::read_file("/proc/self/setgroups", 64) != "deny\n";
}

bool ids_mapped(uid_t uid, gid_t gid) {
    return in_map(sys::read_file("/proc/self/uid_map", 1 << 16), uid) &&
           in_map(sys::read_file("/proc/self/gid_map", 1 << 16), gid);
}

pid_t clone_into_namespaces(int flags, int cgroup_fd, bool* in_cgroup) {
    if (in_cgroup) *in_cgroup = false;
    if (cgroup_fd >= 0) {
        clone_args args{};
        args.flags = static_cast<std::uint64_t>(static_cast<unsigned>(flags)) | CLONE_INTO_CGROUP;
        args.exit_signal = SIGCHLD;
        args.cgroup = static_cast<std::uint64_t>(cgroup_fd);
        long rc = ::syscall(SYS_clone3, &args, sizeof args);
        if (rc >= 0) {
            if (rc > 0 && in_cgroup) *in_cgroup = true;
            return static_cast<pid_t>(rc);
        }
        // Any refusal (no clone3, a filter answering ENOSYS, a cgroup we may not enter,
        // or the namespaces themselves): the plain clone below decides, and its errno
        // is the one reported.
    }
    // The raw syscall gives fork semantics (no separate stack); glibc's clone() wrapper
    // would need one. SIGCHLD so the runner can wait4() for it like any child.
    long rc = ::syscall(SYS_clone, static_cast<unsigned long>(flags) | SIGCHLD, nullptr,
                        nullptr, nullptr, nullptr);
    if (rc < 0) {
        const int err = errno;
        const std::string what = "clone (new user, mount, pid, net, ipc, uts, cgroup namespaces): " + errno_text(err);
        switch (err) {
            case EPERM: case EACCES: case EINVAL: case ENOSPC: case EUSERS: case ENOSYS:
                throw NamespacesRefused(what, kExitInternal, err);
            default:
                throw Error(what, kExitInternal, err);
        }
    }
    return static_cast<pid_t>(rc);
}

namespace {

std::string map_text(const std::vector<IdMapRange>& ranges) {
    std::string text;
    for (const IdMapRange& r : ranges)
        text += std::to_string(r.inside) + " " + std::to_string(r.outside) + " " + std::to_string(r.count) + "\n";
    return text;
}

}  // namespace

std::string uid_map_lines(const Identity& id) {
    if (id.maps) return map_text(id.maps->uid);
    return std::to_string(id.inside_uid) + " " + std::to_string(id.outside_uid) + " 1\n";
}

std::string gid_map_lines(const Identity& id) {
    if (id.maps) return map_text(id.maps->gid);
    return std::to_string(id.inside_gid) + " " + std::to_string(id.outside_gid) + " 1\n";
}

void write_id_maps(pid_t child, const Identity& id) {
    const std::string proc = "/proc/" + std::to_string(child) + "/";
    if (id.maps) {
        // setgroups stays "allow" (inherited from the initial namespace): every host id of
        // the maps is one no host account or group has (IdMaps' contract), so a group the
        // sandbox sets or drops there grants or hides nothing on the host.
        sys::write_file(proc + "uid_map", uid_map_lines(id));
        sys::write_file(proc + "gid_map", gid_map_lines(id));
        return;
    }
    // "deny" first: an unprivileged writer may only write gid_map after it, and it keeps
    // the sandbox from ever calling setgroups(2) to regain a group it was not given.
    sys::write_file(proc + "setgroups", "deny");
    sys::write_file(proc + "uid_map", uid_map_lines(id));
    sys::write_file(proc + "gid_map", gid_map_lines(id));
}

void become_sandbox_user(const Identity& id) {
    if (id.maps)
        sys::check(::setgroups(id.groups.size(), id.groups.empty() ? nullptr : id.groups.data()),
                   "setting the sandbox's additional groups (setgroups)");
    // gid first: after the uid switch, CAP_SETGID would still be there (no uid 0 inside),
    // but the conventional order needs no such argument.
    sys::check(::setresgid(id.inside_gid, id.inside_gid, id.inside_gid),
               "switching to the sandbox gid (setresgid " + std::to_string(id.inside_gid) + ")");
    sys::check(::setresuid(id.inside_uid, id.inside_uid, id.inside_uid),
               "switching to the sandbox uid (setresuid " + std::to_string(id.inside_uid) + ")");
}

}  // namespace aj::helper
