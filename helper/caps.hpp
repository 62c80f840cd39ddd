// Capabilities: the sandbox keeps none.
#pragma once

namespace aj::helper {

// Drops every capability: bounding set first (needs CAP_SETPCAP, still held; each entry
// confirmed gone), then the ambient set, then effective, permitted and inheritable.
// Verifies the result.
void drop_all_capabilities();

// Throws unless the effective, permitted and inheritable sets are empty (one capget). For
// a process that inherited its credentials from one that ran drop_all_capabilities() (the
// command, forked by the sandbox's PID 1), whose bounding set that process emptied and
// no process can refill.
void verify_no_capabilities();

}  // namespace aj::helper
