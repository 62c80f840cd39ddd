// The jail policy as typed data. Parsing (policy/parse.cpp) fills it from JSON and
// validates every field; everything downstream (mount plan, seccomp, limits) reads only
// this struct, never JSON.
#pragma once

#include <cerrno>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace aj::policy {

enum class PathMode { ReadOnly, ReadWrite };

struct PathRule {
    std::string path;  // absolute and normal (no "..", ".", "//", trailing "/")
    PathMode mode = PathMode::ReadOnly;
    bool operator==(const PathRule&) const = default;
};

// What a blocked system call gets.
enum class BlockedAction { Errno, Kill, Log };

struct SyscallAction {
    BlockedAction kind = BlockedAction::Errno;
    int errno_value = EPERM;  // meaningful when kind == Errno
    bool operator==(const SyscallAction&) const = default;
};

enum class NetworkMode { None, Host };

// std::nullopt means "no limit" (the prototype's JSON null).
struct Limits {
    std::optional<std::uint64_t> memory_mb;
    std::optional<std::uint64_t> cpu_sec;       // total CPU time
    std::optional<double> cpus;                 // CPU bandwidth, in cores (0.5 = half a core)
    std::optional<std::uint64_t> pids;
    std::optional<std::uint64_t> open_files;
    std::optional<std::uint64_t> file_size_mb;
    std::optional<std::uint64_t> tmpfs_mb;      // size of the sandbox's /tmp
    // What one run may add to host file systems through every writable place it is
    // granted (helper/disk_budget.hpp): bytes allocated, and inodes created.
    std::optional<std::uint64_t> disk_mb;
    std::optional<std::uint64_t> files;
    std::optional<std::uint64_t> timeout_sec;   // wall clock
    bool operator==(const Limits&) const = default;
};

struct Environment {
    std::vector<std::string> pass;             // names copied from the caller when set there
    std::map<std::string, std::string> set;    // name -> value, applied after pass
    bool operator==(const Environment&) const = default;
};

struct Policy {
    std::vector<PathRule> allowed_paths;
    // Names and @groups as written (validated); deny-list mode unless allowed_syscalls is set.
    std::vector<std::string> blocked_syscalls;
    // When set: allow-list mode, everything not named gets `action`.
    std::optional<std::vector<std::string>> allowed_syscalls;
    SyscallAction action;
    // The hardened default deny set (docs/policy.md, "default_deny") is added on top of
    // blocked_syscalls unless a policy turns it off explicitly.
    bool default_deny = true;
    Limits limits;
    NetworkMode network = NetworkMode::None;
    Environment env;
    std::string hostname = "aurora-jail";
    // The read-only system part of /etc and the sandbox's own passwd, group, hostname and
    // hosts (helper/system_view.hpp, docs/policy.md "system_view").
    bool system_view = true;
    // Whether a run may degrade to rlimit-only mode when namespaces cannot be had.
    bool allow_fallback = true;
    bool operator==(const Policy&) const = default;
};

}  // namespace aj::policy
