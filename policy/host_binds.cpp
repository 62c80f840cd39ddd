#include "policy/host_binds.hpp"

#include <string_view>

#include "policy/text.hpp"

namespace aj::policy {

namespace {

bool at_or_under(std::string_view path, std::string_view dir) {
    return path == dir || (path.size() > dir.size() && path.substr(0, dir.size()) == dir && path[dir.size()] == '/');
}

}  // namespace

std::string refused_host_bind(const PathRule& rule) {
    const std::string& p = rule.path;
    if (p == "/")
        return "\"/\" would bind the whole host file system into the sandbox (list the directories the "
               "command needs instead)";
    if (at_or_under(p, "/proc"))
        return quote(p) + " is the host's /proc: it shows host processes and defeats the sandbox's pid "
               "namespace (the sandbox always has a /proc of its own)";
    if (at_or_under(p, "/sys/fs/cgroup"))
        return quote(p) + " is the host's cgroup hierarchy: the sandbox could read it and, where it is "
               "writable, move itself out of its limits";
    if (rule.mode == PathMode::ReadWrite && (p == "/sys" || p == "/sys/fs"))
        return quote(p) + " read-write would carry the host's cgroup hierarchy (/sys/fs/cgroup) along, "
               "writable (bind it read-only)";
    return {};
}

}  // namespace aj::policy
