#include "helper/cgroup_discovery.hpp"

#include <map>
#include <optional>
#include <sstream>

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

std::vector<CgroupMount> parse_mounts(std::string_view mountinfo) {
    std::vector<CgroupMount> mounts;
    for (const auto& line : lines(mountinfo)) {
        std::istringstream in(line);
        std::vector<std::string> fields;
        for (std::string f; in >> f;) fields.push_back(f);
        // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [optional...] - FSTYPE SOURCE SUPEROPTS
        std::size_t dash = 6;
        while (dash < fields.size() && fields[dash] != "-") ++dash;
        if (fields.size() < 5 || dash + 1 >= fields.size()) continue;
        const std::string& fstype = fields[dash + 1];
        CgroupMount m;
        m.root = unescape_mountinfo(fields[3]);
        m.mount_point = unescape_mountinfo(fields[4]);
        if (fstype == "cgroup2") {
            m.version = CgroupVersion::V2;
        } else if (fstype == "cgroup") {
            m.version = CgroupVersion::V1;
            if (dash + 3 >= fields.size()) continue;
            for (const auto& opt : split(fields[dash + 3], ',')) {
                if (opt == "rw" || opt == "ro" || opt.find('=') != std::string::npos ||
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

std::string unescape_mountinfo(std::string_view field) {
    std::string out;
    auto is_oct = [](char c) { return c >= '0' && c <= '7'; };
    for (std::size_t i = 0; i < field.size(); ++i) {
        if (field[i] == '\\' && i + 3 < field.size() && is_oct(field[i + 1]) &&
            is_oct(field[i + 2]) && is_oct(field[i + 3])) {
            out += static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 +
                                     (field[i + 3] - '0'));
            i += 3;
            continue;
        }
        out += field[i];
    }
    return out;
}

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
