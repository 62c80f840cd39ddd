// How `submit --wait` waits for its response: woken by inotify on responses/ the moment
// the daemon renames the answer into place; where inotify is unavailable (inotify_init1
// fails: the per-user instance limit, a kernel without it), by checking every
// kResponsePollInterval instead. Either way the daemon's heartbeat is checked about once
// a second (daemon_heartbeat.hpp), so a client never waits for a daemon that is not there.
#pragma once

#include <chrono>
#include <string>

#include "runner/queue.hpp"

namespace aj::runner {

class StateDir;

inline constexpr std::chrono::milliseconds kResponsePollInterval{5};

enum class WakeBy { Inotify, Polling };

// Blocks until NAME's response exists, `timeout_sec` passes (0 = forever; throws
// aj::Error) or no daemon has served the state directory for `daemon_grace` (throws
// aj::Error saying how to start one). `wake` Polling skips inotify (tests).
Queue::Response wait_for_response(const StateDir& state, const Queue& queue, const std::string& name,
                                  unsigned timeout_sec, std::chrono::seconds daemon_grace,
                                  WakeBy wake = WakeBy::Inotify);

}  // namespace aj::runner
