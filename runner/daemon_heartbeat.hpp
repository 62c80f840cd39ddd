// The host daemon's heartbeat, read by its clients: `aurora-jail host` writes
// STATE/host.heartbeat ({"pid": N, ...}) when it starts serving and refreshes its mtime
// from its main loop at least every rescan interval (runner/host_daemon.cpp).
// `submit --wait` uses this to stop waiting for a daemon that is not there;
// packaging/lifecycle/health-check.sh applies the same rule in shell.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace aj::runner {

class StateDir;

// A heartbeat older than this means a dead or stuck daemon (the daemon refreshes it
// every 1-2 s; health-check.sh's --max-age default is the same).
inline constexpr std::chrono::seconds kHeartbeatMaxAge{30};

std::string heartbeat_path(const StateDir& state);

// Why no daemon is serving `state` ("no heartbeat at ...: no daemon has served this
// state directory", "... is 95 s old", "... names pid N, which is not running"), or
// nothing when one is.
std::optional<std::string> daemon_not_serving(const StateDir& state);

}  // namespace aj::runner
