// Small text helpers for one-line diagnostics: attacker-written strings (keys, paths,
// syscall names) are quoted and escaped so a message can never span lines or smuggle
// terminal control sequences, and unknown names get a "did you mean" suggestion.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace aj::policy {

// "\"value\"" with control bytes, '"', '\\' and non-ASCII escaped, cut after `max` bytes.
std::string quote(std::string_view value, std::size_t max = 80);

// Levenshtein distance (byte-wise).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word` when it is close enough to be a plausible typo
// (distance <= max(2, len/3)); empty when none is.
std::string nearest(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace aj::policy
