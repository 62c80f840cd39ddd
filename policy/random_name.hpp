// Random suffixes for names that must not collide or be guessed ahead of time: temp
// files, cgroups, queue requests, run ids.
#pragma once

#include <cstddef>
#include <string>

namespace aj::sys {

// 2 * bytes lowercase hex digits from getrandom(2); throws aj::Error when it fails.
std::string random_hex(std::size_t bytes);

}  // namespace aj::sys
