// fallocate(2) modes that allocate blocks without growing the file, as data.
// FALLOC_FL_KEEP_SIZE reserves space past the end of a file while its size stays put, so
// RLIMIT_FSIZE (max_file_size_mb), which only ever looks at sizes, never sees it: one call
// could take gigabytes of a host file system through a file of size 0. Every mode
// (deny-list, allow-list, "log", default_deny off) answers such calls EOPNOTSUPP, which
// the C library's posix_fallocate and programs that preallocate read as "the file
// system cannot" and fall back to writing (seccomp_compile.cpp applies it).
//
// FALLOC_FL_PUNCH_HOLE must be given with FALLOC_FL_KEEP_SIZE, and frees blocks rather
// than allocating them: it stays allowed. Modes without KEEP_SIZE (plain preallocation,
// ZERO_RANGE, INSERT_RANGE) grow the size and so meet RLIMIT_FSIZE.
#pragma once

#include <linux/falloc.h>

#include <cerrno>
#include <cstdint>
#include <string_view>

namespace aj::policy {

struct FallocateRule {
    std::string_view syscall = "fallocate";
    unsigned mode_arg = 1;
    // Refused when (mode & mask) == value.
    std::uint32_t mask = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE;
    std::uint32_t value = FALLOC_FL_KEEP_SIZE;
    int errno_value = EOPNOTSUPP;
};

inline constexpr FallocateRule kFallocateRule{};

}  // namespace aj::policy
