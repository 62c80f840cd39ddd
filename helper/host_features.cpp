#include "helper/host_features.hpp"

#include <sched.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "helper/cgroup.hpp"
#include "helper/cgroup_discovery.hpp"
#include "policy/sys.hpp"

namespace aj::helper {
namespace {

struct NsKind {
    const char* name;
    int flag;
};
// User first: every other namespace is requested from inside it, as the launcher does.
constexpr NsKind kNamespaces[] = {{"user", CLONE_NEWUSER}, {"mount", CLONE_NEWNS},   {"pid", CLONE_NEWPID},
                                  {"net", CLONE_NEWNET},   {"ipc", CLONE_NEWIPC},    {"uts", CLONE_NEWUTS},
                                  {"cgroup", CLONE_NEWCGROUP}};
constexpr std::size_t kNsCount = sizeof kNamespaces / sizeof kNamespaces[0];

// A sysctl's integer value, or -1 when the file does not exist on this kernel.
long sysctl_value(const char* path) {
    std::ifstream in(path);
    long v = -1;
    if (in >> v) return v;
    return -1;
}

// Whether this process already runs under a seccomp filter (a container runtime's).
bool under_seccomp_filter() { return ::prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 2; }

std::string userns_reason(int err) {
    if (err == ENOSPC) {
        if (sysctl_value("/proc/sys/user/max_user_namespaces") == 0)
            return "user.max_user_namespaces = 0 (sysctl user.max_user_namespaces=N enables them)";
        return "the user namespace limit (user.max_user_namespaces or a nesting limit) is reached";
    }
    if (err == EPERM) {
        if (::geteuid() != 0 && sysctl_value("/proc/sys/kernel/unprivileged_userns_clone") == 0)
            return "kernel.unprivileged_userns_clone = 0 (Debian: sysctl kernel.unprivileged_userns_clone=1)";
        if (under_seccomp_filter())
            return "refused by this process's seccomp filter (a container runtime that blocks namespace creation)";
        return "refused by the kernel or an LSM";
    }
    if (err == EINVAL || err == ENOSYS) return "the kernel has no user namespaces (CONFIG_USER_NS)";
    return "unshare(CLONE_NEWUSER) failed";
}

std::string inner_reason(int err) {
    if ((err == EPERM || err == EACCES) &&
        sysctl_value("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == 1)
        return "kernel.apparmor_restrict_unprivileged_userns = 1 (Ubuntu 24.04+): the new user namespace has no "
               "capabilities; an AppArmor profile granting `userns` to aurora-jail is needed "
               "(the package installs it as /etc/apparmor.d/aurora-jail where AppArmor 4 is present; load it "
               "with `apparmor_parser -r /etc/apparmor.d/aurora-jail`)";
    if (err == EPERM && under_seccomp_filter())
        return "refused by this process's seccomp filter (a container runtime that blocks namespace creation)";
    if (err == EINVAL) return "the kernel lacks this namespace type";
    return "unshare failed inside the new user namespace";
}

}  // namespace

std::vector<NamespaceProbe> probe_namespaces() {
    // In a child: unshare changes the caller for good, and a threaded caller (the host
    // daemon) could not unshare a user namespace at all.
    sys::Pipe pipe = sys::make_pipe("namespace probe pipe");
    pid_t pid = ::fork();
    if (pid < 0) throw_errno("namespace probe: fork");
    if (pid == 0) {
        pipe.read.reset();
        int errs[kNsCount] = {};
        for (std::size_t i = 0; i < kNsCount; ++i) {
            errs[i] = ::unshare(kNamespaces[i].flag) == 0 ? 0 : errno;
            if (i == 0 && errs[0] != 0) {
                for (std::size_t j = 1; j < kNsCount; ++j) errs[j] = -1;  // not tried
                break;
            }
        }
        ssize_t n = ::write(pipe.write.get(), errs, sizeof errs);
        ::_exit(n == static_cast<ssize_t>(sizeof errs) ? 0 : 1);
    }
    pipe.write.reset();
    int errs[kNsCount];
    std::string data = sys::read_all(pipe.read.get(), sizeof errs, "namespace probe: reading");
    int status = 0;
    sys::retry_eintr([&] { return ::waitpid(pid, &status, 0); });
    if (data.size() != sizeof errs) throw Error("namespace probe: the probe child died (status " + std::to_string(status) + ")");
    std::memcpy(errs, data.data(), sizeof errs);

    std::vector<NamespaceProbe> out;
    for (std::size_t i = 0; i < kNsCount; ++i) {
        NamespaceProbe p;
        p.name = kNamespaces[i].name;
        p.ok = errs[i] == 0;
        if (errs[i] == -1) {
            p.reason = "not tried: no user namespace";
        } else if (errs[i] != 0) {
            p.error = errs[i];
            p.reason = i == 0 ? userns_reason(errs[i]) : inner_reason(errs[i]);
        }
        out.push_back(std::move(p));
    }
    return out;
}

std::string mode_for(const std::vector<NamespaceProbe>& namespaces) {
    for (const auto& p : namespaces)
        if ((p.name == "user" || p.name == "mount" || p.name == "pid" || p.name == "net") && !p.ok)
            return "rlimit-only";
    return "namespaces";
}

SeccompProbe probe_seccomp() {
    SeccompProbe s;
    if (::prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0) {
        s.reason = errno == EINVAL ? "the kernel has no seccomp (CONFIG_SECCOMP)" : "prctl(PR_GET_SECCOMP): " + errno_text(errno);
        return s;
    }
    std::ifstream in("/proc/sys/kernel/seccomp/actions_avail");
    for (std::string a; in >> a;) s.actions.push_back(a);
    bool has_errno = false, has_kill = false;
    for (const auto& a : s.actions) {
        has_errno |= a == "errno";
        has_kill |= a == "kill_process";
    }
    s.ok = has_errno && has_kill;
    if (!s.ok) s.reason = "seccomp filter mode lacks the errno or kill_process action";
    return s;
}

CgroupProbe probe_cgroups() {
    CgroupProbe probe;
    std::vector<CgroupHierarchy> hs = discover_cgroup_hierarchies();
    bool v1 = false, v2 = false;
    for (const auto& h : hs) (h.version == CgroupVersion::V1 ? v1 : v2) = true;
    probe.layout = v1 && v2 ? "hybrid" : v1 ? "v1" : v2 ? "v2" : "none";

    // In this process, not a child: on v2 the creator may have to step into a leaf of its
    // own, which a child could not do while we stay in the parent. That leaf outlives this
    // short-lived process and is swept by the next start.
    try {
        CgroupRequest req;
        req.memory_bytes = 256u << 20;
        req.cpus = 1.0;
        req.pids = 1024;
        if (const char* parent = std::getenv("AURORA_JAIL_CGROUP_PARENT"); parent && *parent) req.v2_parent = parent;
        Cgroup cg = Cgroup::create(req);
        probe.backends = cg.describe();
        probe.backends.erase("directories");  // removed again right below
        cg.remove();
    } catch (const Error& e) {
        probe.backends = {{"error", e.what()}};
    }
    return probe;
}

HostFeatures probe_host_features() {
    HostFeatures f;
    f.namespaces = probe_namespaces();
    f.seccomp = probe_seccomp();
    f.landlock = probe_landlock();
    f.cgroups = probe_cgroups();
    f.mode = mode_for(f.namespaces);
    f.full_isolation = f.mode == "namespaces" && f.seccomp.ok;
    return f;
}

nlohmann::json HostFeatures::to_json() const {
    nlohmann::json ns = nlohmann::json::object();
    for (const auto& p : namespaces) {
        nlohmann::json e = {{"ok", p.ok}};
        if (p.error) e["errno"] = errno_name(p.error);
        if (!p.reason.empty()) e["reason"] = p.reason;
        ns[p.name] = e;
    }
    nlohmann::json sc = {{"ok", seccomp.ok}, {"actions", seccomp.actions}};
    if (!seccomp.reason.empty()) sc["reason"] = seccomp.reason;
    nlohmann::json ll = {{"ok", landlock.abi > 0}, {"abi", landlock.abi}};
    if (!landlock.reason.empty()) ll["reason"] = landlock.reason;
    nlohmann::json cg = cgroups.backends;
    cg["layout"] = cgroups.layout;
    return {{"mode", mode}, {"full_isolation", full_isolation}, {"namespaces", ns},
            {"seccomp", sc}, {"landlock", ll}, {"cgroups", cg}};
}

}  // namespace aj::helper
