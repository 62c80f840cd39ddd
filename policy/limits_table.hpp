// The numeric limits of a policy as one table: JSON key, field, unit ceiling, and
// whether zero means anything. Parsing, printing and documentation walk this table.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "policy/policy.hpp"

namespace aj::policy {

struct IntegerLimit {
    std::string_view key;                            // JSON key, e.g. "max_memory_mb"
    std::optional<std::uint64_t> Limits::*field;
    std::uint64_t minimum;                           // 0 or 1 (zero meaningless)
    std::uint64_t maximum;                           // documented ceiling
    std::string_view why_minimum;                    // shown when below minimum
};

const std::vector<IntegerLimit>& integer_limits();

// max_cpus: cores of CPU bandwidth; cgroup v2 cpu.max needs quota >= 1 ms per 100 ms.
inline constexpr double kMinCpus = 0.01;
inline constexpr double kMaxCpus = 4096;

}  // namespace aj::policy
