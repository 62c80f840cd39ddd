#include "helper/cgroup_discovery.hpp"

#include <algorithm>
#include <map>
#include <optional>

#include "helper/mountinfo.hpp"
#include "policy/sys.hpp"

namespace aj::helper {
namespace {

std::vector<std::string> split(std::string_view text, char sep) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (true) {
        std::size_t end = text.find(sep, start);
        out.emplace_back(text.substr(start, end == std::string_view::npos ? text.npos : end - start));
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    return out;
}

std::vector<std::string> lines(std::string_view text) {
    std::vector<std::string> out;
    for (auto& line : split(text, '\n'))
        if (!line.empty()) out.push_back(line);
    return out;
}

struct CgroupMount {
    CgroupVersion version;
    std::set<std::string> controllers;
    std::string root;         // the part of the hierarchy this mount shows
    std::string mount_point;
};

// A mount made later at the same point, or at an ancestor point without being one of
// this mount's parents, hides it (mountinfo lists a namespace's mounts in the order they
// were made): its path reaches the later file system. So a hierarchy with a tmpfs mounted
// over it is not one this process can use.
bool covered_later(const std::vector<MountInfoEntry>& entries, std::size_t i) {
    std::set<std::uint64_t> parents;
    for (std::uint64_t id = entries[i].parent; parents.insert(id).second;) {
        const auto up = std::find_if(entries.begin(), entries.end(), [&](const auto& e) { return e.id == id; });
        if (up == entries.end()) break;
        id = up->parent;
    }
    const std::string& point = entries[i].mount_point;
    for (std::size_t j = i + 1; j < entries.size(); ++j) {
        const std::string& later = entries[j].mount_point;
        const bool above = later == "/" || (point.starts_with(later) && point[later.size()] == '/');
        if (later == point || (above && !parents.contains(entries[j].id))) return true;
    }
    return false;
}

std::vector<CgroupMount> parse_mounts(std::string_view mountinfo) {
    std::vector<CgroupMount> mounts;
    const std::vector<MountInfoEntry> entries = parse_mountinfo(mountinfo);
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const MountInfoEntry& e = entries[i];
        if (covered_later(entries, i)) continue;
        CgroupMount m;
        m.root = e.root;
        m.mount_point = e.mount_point;
        if (e.fs_type == "cgroup2") {
            m.version = CgroupVersion::V2;
        } else if (e.fs_type == "cgroup") {
            m.version = CgroupVersion::V1;
            for (const auto& opt : split(e.super_options, ',')) {
                if (opt.empty() || opt == "rw" || opt == "ro" || opt.find('=') != std::string::npos ||
                    opt == "clone_children" || opt == "noprefix" || opt == "xattr" ||
                    opt == "cpuset_v2_mode" || opt == "favordynmods")
                    continue;
                m.controllers.insert(opt);
            }
            if (m.controllers.empty()) continue;  // a named hierarchy (name=systemd)
        } else {
            continue;
        }
        mounts.push_back(std::move(m));
    }
    return mounts;
}

// The directory for `path` under a mount showing `root`, or nullopt when the mount does
// not contain it.
std::optional<std::string> dir_under(const CgroupMount& m, const std::string& path) {
    if (m.root == "/") return path == "/" ? m.mount_point : m.mount_point + path;
    if (path == m.root) return m.mount_point;
    if (path.compare(0, m.root.size(), m.root) == 0 && path.size() > m.root.size() &&
        path[m.root.size()] == '/')
        return m.mount_point + path.substr(m.root.size());
    return std::nullopt;
}

}  // namespace

std::vector<CgroupHierarchy> parse_cgroup_hierarchies(std::string_view proc_self_cgroup,
                                                      std::string_view mountinfo) {
    std::vector<CgroupMount> mounts = parse_mounts(mountinfo);
    std::vector<CgroupHierarchy> out;
    for (const auto& line : lines(proc_self_cgroup)) {
        // hierarchy-ID:controller-list:path (the path may itself contain ':')
        std::size_t c1 = line.find(':');
        std::size_t c2 = c1 == std::string::npos ? c1 : line.find(':', c1 + 1);
        if (c2 == std::string::npos) continue;
        std::string id = line.substr(0, c1);
        std::string list = line.substr(c1 + 1, c2 - c1 - 1);
        std::string path = line.substr(c2 + 1);
        if (path.empty() || path[0] != '/') continue;
        CgroupHierarchy h;
        h.own_path = path;
        h.own_is_root = path == "/";
        if (id == "0" && list.empty()) {
            h.version = CgroupVersion::V2;
        } else {
            h.version = CgroupVersion::V1;
            for (const auto& c : split(list, ','))
                if (!c.empty() && c.find('=') == std::string::npos) h.controllers.insert(c);
            if (h.controllers.empty()) continue;
        }
        for (const auto& m : mounts) {
            if (m.version != h.version) continue;
            if (h.version == CgroupVersion::V1 && m.controllers != h.controllers) continue;
            if (auto dir = dir_under(m, path)) {
                h.mount_point = m.mount_point;
                h.own_dir = *dir;
                break;
            }
        }
        if (h.own_dir.empty()) continue;
        out.push_back(std::move(h));
    }
    return out;
}

std::vector<CgroupHierarchy> discover_cgroup_hierarchies() {
    return parse_cgroup_hierarchies(sys::read_file("/proc/self/cgroup"),
                                    sys::read_file("/proc/self/mountinfo", 4 << 20));
}

}  // namespace aj::helper
