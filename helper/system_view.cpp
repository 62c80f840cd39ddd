// What of /etc the sandbox sees, and why each entry is safe to show: every entry is world
// readable on a Debian host and holds configuration, not credentials. Left out on purpose:
// shadow, gshadow and their backups, sudoers(.d), ssh host keys (only ssh/ssh_config is
// shown), ssl/private, machine-id, subuid/subgid, and files that commonly carry tokens
// (gitconfig's credential helpers and url rewrites, pip.conf, npmrc, wgetrc, netrc).
#include "helper/system_view.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <optional>


namespace aj::helper {

namespace {

constexpr const char* kEtc = "/etc";

// The names in /etc (sorted), read once per call of system_view_host_paths, for the
// "name*" entries.
std::vector<std::string> etc_names() {
    std::vector<std::string> out;
    DIR* dir = ::opendir(kEtc);
    if (!dir) return out;  // no /etc to show from: the view simply has less
    while (const dirent* e = ::readdir(dir)) {
        std::string name = e->d_name;
        if (name != "." && name != "..") out.push_back(std::move(name));
    }
    ::closedir(dir);
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

const std::vector<std::string>& system_view_host_entries() {
    static const std::vector<std::string> entries = {
        // Programs and libraries
        "alternatives", "ld.so.cache", "ld.so.conf", "ld.so.conf.d",
        // TLS: the CA bundle and OpenSSL's config (/usr/lib/ssl points here), not ssl/private
        "ssl/certs", "ssl/openssl.cnf",
        // Time and locale
        "localtime", "timezone", "locale.alias",
        // Name service and network tables (no host names: /etc/hosts is the sandbox's own
        // unless the network is the host's)
        "nsswitch.conf", "host.conf", "gai.conf", "protocols", "services", "rpc",
        // What the system is
        "os-release", "debian_version", "mtab",
        // Shells and terminals
        "shells", "bash.bashrc", "profile", "inputrc", "terminfo",
        // Tools' and runtimes' own configuration
        "mime.types", "magic", "magic.mime", "fonts", "vim", "perl", "python3*", "java-*",
        "ImageMagick-*", "ssh/ssh_config",
    };
    return entries;
}

std::vector<HostViewEntry> system_view_host_stats(policy::NetworkMode network) {
    std::vector<std::string> entries = system_view_host_entries();
    // With the host's network the host's resolver configuration and names come along.
    if (network == policy::NetworkMode::Host) {
        entries.emplace_back("hosts");
        entries.emplace_back("resolv.conf");
    }
    std::vector<HostViewEntry> out;
    out.reserve(entries.size() + 8);
    std::optional<std::vector<std::string>> all;
    auto add = [&](const std::string& name) {
        HostViewEntry e{std::string(kEtc) + "/" + name, {}};
        if (::lstat(e.path.c_str(), &e.st) == 0) out.push_back(std::move(e));
    };
    for (const std::string& entry : entries) {
        if (!entry.ends_with('*')) {
            add(entry);
            continue;
        }
        if (!all) all = etc_names();
        const std::string prefix = entry.substr(0, entry.size() - 1);
        for (const auto& name : *all)
            if (name.starts_with(prefix)) add(name);
    }
    return out;
}

std::vector<std::string> system_view_host_paths(policy::NetworkMode network) {
    std::vector<std::string> out;
    for (auto& e : system_view_host_stats(network)) out.push_back(std::move(e.path));
    return out;
}

std::string sandbox_passwd(unsigned uid, unsigned gid, const std::string& home) {
    // A home the format cannot carry (a field separator, a line break) becomes "/".
    const bool usable = home.starts_with('/') && home.find_first_of(":\n") == std::string::npos;
    return "root:x:0:0:root:/root:/usr/sbin/nologin\n"
           "sandbox:x:" + std::to_string(uid) + ":" + std::to_string(gid) + ":aurora-jail sandbox:" + (usable ? home : "/") +
           ":/bin/sh\n";
}

std::string sandbox_group(unsigned gid) {
    return "root:x:0:\nsandbox:x:" + std::to_string(gid) + ":\n";
}

std::string sandbox_hosts(const std::string& hostname) {
    return "127.0.0.1\tlocalhost\n127.0.1.1\t" + hostname + "\n::1\tlocalhost ip6-localhost ip6-loopback\n";
}

std::vector<SynthesizedFile> system_view_files(const policy::Policy& policy, const std::string& home) {
    // The sandbox always runs as 65534/65534 inside (helper/userns.hpp, Identity).
    constexpr unsigned kInside = 65534;
    std::vector<SynthesizedFile> files = {
        {"/etc/passwd", sandbox_passwd(kInside, kInside, home)},
        {"/etc/group", sandbox_group(kInside)},
        {"/etc/hostname", policy.hostname + "\n"},
    };
    if (policy.network == policy::NetworkMode::None) files.push_back({"/etc/hosts", sandbox_hosts(policy.hostname)});
    return files;
}

}  // namespace aj::helper
