// What a queued request (or `run --memory-mb`) may change in a plugin's policy: it may
// tighten the wall-clock and memory limits, never loosen them. Whoever can write the queue
// is not whoever wrote the policy, so a loosening request is refused with the reason
// rather than clamped silently.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "policy/policy.hpp"
#include "runner/queue.hpp"

namespace aj::runner {

struct RequestLimits {
    std::uint64_t timeout_sec = kDefaultRequestTimeoutSec;
    std::optional<std::uint64_t> memory_mb;  // unset: the policy's own
};

// The limits a run of `request` gets under `policy`. Throws aj::Error naming the field,
// both values and `plugin` when the request asks for more than the policy allows. A
// request without "timeout" gets the default, capped at the policy's.
RequestLimits tighten_only(const Request& request, const policy::Policy& policy, const std::string& plugin);

// Lowers policy.limits.memory_mb to `memory_mb`; throws aj::Error when that would raise it.
// `who` names the policy in the message.
void tighten_memory(policy::Policy& policy, std::uint64_t memory_mb, const std::string& who);

}  // namespace aj::runner
