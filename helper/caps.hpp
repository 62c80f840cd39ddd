// Capabilities: the sandbox keeps none.
#pragma once

namespace aj::helper {

// Drops every capability: bounding set first (needs CAP_SETPCAP, still held), then the
// ambient set, then effective, permitted and inheritable. Verifies the result.
void drop_all_capabilities();

}  // namespace aj::helper
