// Capabilities: the sandbox keeps none.
#pragma once

namespace aj::helper {

// Drops every capability: bounding set first (needs CAP_SETPCAP, still held), then the
// ambient set, then effective, permitted and inheritable. Verifies the result.
void drop_all_capabilities();

// Throws unless every capability set, the bounding set included, is empty. For a process
// that inherited its credentials from one that ran drop_all_capabilities() (the command,
// forked by the sandbox's PID 1): a few syscalls instead of the drop's ~80.
void verify_no_capabilities();

}  // namespace aj::helper
