#include "helper/limit_scopes.hpp"

namespace aj::helper {
namespace {

// The probe cgroup's backend for one limit ("cgroup-v1", "cgroup-v2"), or "none".
std::string cgroup_backend(const HostFeatures& host, const char* limit) {
    const auto& b = host.cgroups.backends;
    return b.contains(limit) && b[limit].is_string() ? b[limit].get<std::string>() : "none";
}

}  // namespace

std::vector<LimitScope> limit_scopes(const HostFeatures& host) {
    const bool namespaces = host.mode == "namespaces";
    const std::string memory = cgroup_backend(host, "memory"), cpus = cgroup_backend(host, "cpus"),
                      pids = cgroup_backend(host, "pids"), cpu_time = cgroup_backend(host, "cpu_time");
    std::vector<LimitScope> out;
    if (memory != "none") out.push_back({"max_memory_mb", "total", memory, ""});
    else
        out.push_back({"max_memory_mb", "total", "accounting",
                       "the processes' memory, polled; kernel memory (socket buffers, pipes) NOT enforced"});
    if (cpus != "none") out.push_back({"max_cpus", "total", cpus, ""});
    else out.push_back({"max_cpus", "not enforced", "none", "CPU bandwidth needs a writable cpu cgroup"});
    if (pids != "none") out.push_back({"max_pids", "total", pids + "+rlimit", ""});
    else if (namespaces) out.push_back({"max_pids", "total", "rlimit", "RLIMIT_NPROC counts per user namespace"});
    else
        out.push_back({"max_pids", "approximate", "rlimit",
                       "RLIMIT_NPROC counts every task of the uid on the host: the uid's count at the start plus max_pids"});
    if (cpu_time != "none") out.push_back({"max_cpu_sec", "total", cpu_time + "+rlimit", ""});
    else out.push_back({"max_cpu_sec", "total", "accounting+rlimit", "polled from /proc"});
    out.push_back({"max_open_files", "per process", "rlimit", ""});
    out.push_back({"max_file_size_mb", "per process", "rlimit", ""});
    if (namespaces) out.push_back({"max_tmpfs_mb", "total", "tmpfs size", "/tmp and /dev/shm together"});
    else out.push_back({"max_tmpfs_mb", "not enforced", "none", "no private /tmp in rlimit-only mode"});
    const char* disk_note = "growth of every writable host tree (workdir, rw paths, plugin run directory, a "
                            "detached run's logs), walked and polled; the sandbox is killed past it";
    out.push_back({"max_disk_mb", "total", "accounting", disk_note});
    out.push_back({"max_files", "total", "accounting", disk_note});
    out.push_back({"timeout_sec", "total", "supervisor", ""});
    return out;
}

}  // namespace aj::helper
