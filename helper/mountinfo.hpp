// /proc/self/mountinfo as data: one entry per mount, parsed without privileges (the
// cgroup discovery and the granted trees' submount check both read it).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace aj::helper {

struct MountInfoEntry {
    std::uint64_t id = 0;
    std::uint64_t parent = 0;
    std::string root;          // the part of its file system the mount shows
    std::string mount_point;   // as this process sees it, unescaped
    std::string fs_type;
    std::string super_options;
};

// Lines that do not parse are skipped (a mountinfo line is never trusted to be whole).
std::vector<MountInfoEntry> parse_mountinfo(std::string_view text);

// The mounts below the mount `top` (children, their children...), parents before
// children; `top` itself is not included.
std::vector<MountInfoEntry> mounts_below(const std::vector<MountInfoEntry>& mounts, std::uint64_t top);

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_mountinfo(std::string_view field);

}  // namespace aj::helper
