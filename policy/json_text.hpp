// Strict JSON reading for untrusted policy and manifest text: bounded size and nesting, duplicate
// object keys refused (nlohmann would silently keep the last one), syntax errors
// reported with line and column.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace aj::policy {

inline constexpr std::size_t kMaxPolicyBytes = 1 << 20;
inline constexpr std::size_t kMaxPolicyDepth = 16;

// Throws aj::Error "SOURCE: not valid JSON at line L, column C: syntax error ..." and the like.
nlohmann::json read_json_text(std::string_view text, const std::string& source);

// One RFC 6901 reference token, with control bytes shown as \xNN so a pointer made
// of attacker-written keys still prints on one line.
std::string pointer_token(std::string_view key);

}  // namespace aj::policy
