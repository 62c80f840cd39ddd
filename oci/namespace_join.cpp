#include "oci/namespace_join.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "policy/error.hpp"

namespace aj::oci {

int joinable_namespace_flag(const std::string& type) {
    if (type == "network") return CLONE_NEWNET;
    if (type == "ipc") return CLONE_NEWIPC;
    if (type == "uts") return CLONE_NEWUTS;
    return 0;
}

JoinedNamespace open_namespace(const std::string& type, const std::string& path) {
    const std::string what = "linux.namespaces " + type + " path " + path;
    JoinedNamespace ns;
    ns.type = type;
    ns.path = path;
    ns.clone_flag = joinable_namespace_flag(type);
    if (ns.clone_flag == 0) throw Error(what + ": a " + type + " namespace cannot be joined");
    if (path.empty() || path[0] != '/') throw Error(what + ": not an absolute path");
    // /proc/PID/ns/* are magic links and /run/netns/NAME bind mounts of nsfs files: both
    // are followed. Nothing else is opened for reading before it is known to be nsfs.
    const sys::UniqueFd located = sys::open_fd(path, O_PATH, "linux.namespaces " + type + " path");
    struct statfs fs {};
    sys::check(::fstatfs(located.get(), &fs), what);
    if (fs.f_type != NSFS_MAGIC) throw Error(what + ": not a namespace (not a file of nsfs)");
    ns.fd = sys::open_fd("/proc/self/fd/" + std::to_string(located.get()), O_RDONLY, what + ": reopening");
    const int kind = ::ioctl(ns.fd.get(), NS_GET_NSTYPE);
    if (kind < 0) throw_errno(what + ": asking its namespace type (NS_GET_NSTYPE)");
    if (kind != ns.clone_flag) throw Error(what + ": a namespace of another type, not " + type);
    struct stat st {};
    sys::check(::fstat(ns.fd.get(), &st), what);
    ns.inode = st.st_ino;
    return ns;
}

void join_namespaces(const std::vector<JoinedNamespace>& namespaces) {
    for (const JoinedNamespace& ns : namespaces)
        if (::setns(ns.fd.get(), ns.clone_flag) != 0)
            throw_errno("joining the " + ns.type + " namespace " + ns.path +
                        " (setns: needs CAP_SYS_ADMIN over the namespace's owner)");
}

std::vector<JoinedNamespace> own_namespaces(const std::vector<JoinedNamespace>& joined) {
    std::vector<JoinedNamespace> own;
    for (const JoinedNamespace& ns : joined) {
        const char* proc_name = ns.clone_flag == CLONE_NEWNET ? "net" : ns.clone_flag == CLONE_NEWIPC ? "ipc" : "uts";
        own.push_back(open_namespace(ns.type, std::string("/proc/self/ns/") + proc_name));
    }
    return own;
}

std::vector<std::pair<int, int>> setns_pairs(const std::vector<JoinedNamespace>& namespaces) {
    std::vector<std::pair<int, int>> pairs;
    for (const JoinedNamespace& ns : namespaces) pairs.emplace_back(ns.fd.get(), ns.clone_flag);
    return pairs;
}

nlohmann::json describe(const std::vector<JoinedNamespace>& namespaces) {
    nlohmann::json out = nlohmann::json::object();
    for (const JoinedNamespace& ns : namespaces) out[ns.type] = {{"path", ns.path}, {"inode", ns.inode}};
    return out;
}

}  // namespace aj::oci
