// Directory listing by fd, for every directory the state tree holds (plugins, queue, runs).
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <vector>

namespace aj::sys {

// The names in the directory open as `dir_fd` (without "." and ".."), at most
// `max_entries` of them (a bound for directories an untrusted writer can fill). Reads
// through a duplicate of dir_fd from the start; the caller's fd stays open. Errors name
// `what` (the directory as the user knows it) and the errno.
std::vector<std::string> list_dir(int dir_fd, const std::string& what,
                                  std::size_t max_entries = std::numeric_limits<std::size_t>::max());

}  // namespace aj::sys
