// The system view (policy key "system_view", docs/policy.md): the read-only part of the
// host's /etc that ordinary programs need to run (the dynamic linker's cache, the
// /etc/alternatives links, CA certificates, time zone, name-service and protocol tables,
// runtimes' own config directories), never its secrets, plus /etc/passwd, /etc/group,
// /etc/hostname and (without a network) /etc/hosts written for the sandbox itself.
#pragma once

#include <sys/stat.h>

#include <string>
#include <vector>

#include "policy/policy.hpp"

namespace aj::helper {

// The host entries the view shows, as paths below /etc; a trailing "*" matches any name
// starting with what precedes it (one directory level, e.g. "python3*").
const std::vector<std::string>& system_view_host_entries();

struct HostViewEntry {
    std::string path;      // below /etc on the host
    struct stat st;        // its lstat when listed: what the mount plan decides on
};
// The host paths the view shows on this host (patterns expanded, missing entries left
// out), in a stable order, with their lstat.
std::vector<HostViewEntry> system_view_host_stats(policy::NetworkMode network);
// The same, paths only.
std::vector<std::string> system_view_host_paths(policy::NetworkMode network);

// /etc/passwd and /etc/group for the sandbox: root and the sandbox user ("sandbox",
// the ids it has inside, `home` as its home directory).
std::string sandbox_passwd(unsigned uid, unsigned gid, const std::string& home);
std::string sandbox_group(unsigned gid);
// /etc/hosts for a sandbox without a network: loopback names and its own host name.
std::string sandbox_hosts(const std::string& hostname);

struct SynthesizedFile {
    std::string path;     // inside the sandbox
    std::string content;
};
// The files written for the sandbox (system_view_synthesized's, with their text). `home`
// is the sandbox user's home directory.
std::vector<SynthesizedFile> system_view_files(const policy::Policy& policy, const std::string& home);

}  // namespace aj::helper
