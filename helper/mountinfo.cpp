#include "helper/mountinfo.hpp"

#include <cstdlib>
#include <sstream>

namespace aj::helper {

std::vector<MountInfoEntry> parse_mountinfo(std::string_view text) {
    std::vector<MountInfoEntry> out;
    std::istringstream lines{std::string(text)};
    for (std::string line; std::getline(lines, line);) {
        std::istringstream in(line);
        std::vector<std::string> fields;
        for (std::string f; in >> f;) fields.push_back(f);
        // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [optional...] - FSTYPE SOURCE SUPEROPTS
        std::size_t dash = 6;
        while (dash < fields.size() && fields[dash] != "-") ++dash;
        if (fields.size() < 6 || dash + 1 >= fields.size()) continue;
        MountInfoEntry e;
        char* end = nullptr;
        e.id = std::strtoull(fields[0].c_str(), &end, 10);
        if (*end) continue;
        e.parent = std::strtoull(fields[1].c_str(), &end, 10);
        if (*end) continue;
        e.root = unescape_mountinfo(fields[3]);
        e.mount_point = unescape_mountinfo(fields[4]);
        e.fs_type = fields[dash + 1];
        if (dash + 3 < fields.size()) e.super_options = fields[dash + 3];
        out.push_back(std::move(e));
    }
    return out;
}

std::vector<MountInfoEntry> mounts_below(const std::vector<MountInfoEntry>& mounts, std::uint64_t top) {
    std::vector<MountInfoEntry> out;
    std::vector<std::uint64_t> frontier{top};
    while (!frontier.empty()) {
        std::vector<std::uint64_t> next;
        for (const auto& m : mounts)
            for (std::uint64_t parent : frontier)
                if (m.parent == parent && m.id != parent) {
                    out.push_back(m);
                    next.push_back(m.id);
                }
        frontier = std::move(next);
    }
    return out;
}

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

}  // namespace aj::helper
