// The launcher's warm pool (`aurora-jail host --warm N`): for each plugin served lately, up
// to N run processes that have built a sandbox under that plugin's policy before any
// request for it exists (namespaces, the root, the cgroup, the run directory, PID 1
// waiting for its last release: helper/launch.hpp's argv_at_release) and wait for one.
//
// Contract:
//   - What may be served warm: a request that asks for its plugin's own limits (no
//     "timeout", no "memory_mb": those shape the sandbox) of a staged plugin. Any other
//     request, or one arriving while no warm sandbox of its plugin is ready, runs cold
//     (launcher.hpp), exactly as without a pool.
//   - Hand-over: the launcher forwards the order message with its three descriptors to a
//     ready warm run process, which checks it as a cold run would (the plugin, its
//     policy), takes the descriptors as its stdout, stderr and reply socket, and goes on
//     as a cold run from "pid" (launcher.hpp's reply lines). Seccomp, no_new_privs, the
//     command's rlimits and execve happen then, on the request.
//   - One sandbox, one request: a warm run process serves at most one order and exits;
//     its run directory, PID 1 and namespaces are never another request's.
//   - Stale: a warm sandbox whose plugin changed since it was built (restaged: another
//     directory; another policy; removed) sends the order back (the same message and
//     descriptors on its pool socket) and the launcher runs it cold.
//   - Bounded: N per plugin (kMaxWarmPerPlugin), at most kMaxWarmPlugins plugins (the
//     least recently used gives its sandboxes up). The launcher refills off the
//     request's path: after an order it ran cold, and when a warm run process that took
//     one ends (so that on a small machine the building does not take CPU from that
//     request; N > 1 keeps another ready meanwhile).
//     A plugin whose warm sandboxes die kWarmBuildFailures times in a row before being
//     ready is not pooled again by this launcher.
//   - Drained: the launcher closes every idle warm socket when the daemon closes its
//     control socket (and on eviction); the warm run process reads EOF, its launch ends
//     with nothing untrusted having run (PID 1 is killed, the run directory removed).
//     A SIGKILLed daemon: the lifetimes of launcher.hpp end them all; the next start
//     removes their run directories with the other abandoned ones.
//
// Pool socket (SOCK_SEQPACKET, launcher <-> one warm run process):
//   warm -> launcher  "ready" (kWarmReady): the sandbox is built, PID 1 waits
//   launcher -> warm  the order, as on the control socket, with its three descriptors
//   warm -> launcher  the same order and descriptors back: stale, run it cold
//   EOF either way    the warm run process is discarded, or has died, or (having taken
//                     an order) has ended: it keeps its end open until it exits
#pragma once

#include <poll.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "policy/sys.hpp"

namespace aj::runner {

inline constexpr unsigned kMaxWarmPerPlugin = 8;
inline constexpr std::size_t kMaxWarmPlugins = 4;
inline constexpr unsigned kWarmBuildFailures = 3;
inline constexpr std::string_view kWarmReady = "ready";

// A warm run process as the launcher forked it: its pid and the launcher's end of its
// pool socket.
struct WarmProcess {
    pid_t pid = -1;
    sys::UniqueFd sock;
};

// An order a warm run process sent back: run it cold.
struct BouncedOrder {
    std::string order;
    std::vector<sys::UniqueFd> fds;
};

class WarmPool {
public:
    // Forks one warm run process for (state directory, plugin id).
    using Spawn = std::function<WarmProcess(const std::string& state_dir, const std::string& plugin)>;

    // `per_plugin` 0: no pool (every order runs cold).
    WarmPool(unsigned per_plugin, Spawn spawn) : per_plugin_(per_plugin), spawn_(std::move(spawn)) {}

    // Hands the order to a ready warm run process of its plugin (true), else leaves it
    // to the caller to run cold (false); then refills that plugin's pool either way.
    bool take(const std::string& order, std::span<const int> fds);

    // The pool sockets to poll, appended to `fds`; then on_events() with the same entries.
    void watch(std::vector<pollfd>& fds) const;
    // Readiness, ends and sent-back orders of the polled pool sockets.
    std::vector<BouncedOrder> on_events(std::span<const pollfd> fds);

    // Closes every idle warm socket: those run processes tear their sandboxes down.
    void discard_all();

private:
    struct Warm {
        pid_t pid = -1;
        sys::UniqueFd sock;
        bool ready = false;
        std::string plugin_key;  // once serving: whose pool its end refills
    };
    struct Plugin {
        std::string state_dir, id;
        std::list<Warm> idle;  // building or ready
        unsigned failures = 0;
        bool given_up = false;
        std::uint64_t last_used = 0;
    };
    Plugin* pool_for(const std::string& state_dir, const std::string& plugin);
    void refill(Plugin& plugin);
    void on_event(int fd, std::vector<BouncedOrder>& back);

    unsigned per_plugin_;
    Spawn spawn_;
    std::map<std::string, Plugin> plugins_;  // by state directory and plugin id
    std::list<Warm> serving_;               // handed an order: until their socket ends
    std::uint64_t tick_ = 0;
};

}  // namespace aj::runner
