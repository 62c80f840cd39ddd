#include "runner/response_wait.hpp"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "policy/error.hpp"
#include "policy/sys.hpp"
#include "runner/daemon_heartbeat.hpp"
#include "runner/state_dir.hpp"

namespace aj::runner {

namespace {

using Clock = std::chrono::steady_clock;

// responses/ watched for answers renamed into place; an invalid fd when inotify is
// unavailable (the caller then polls).
sys::UniqueFd watch_responses(const Queue& queue, WakeBy wake) {
    if (wake == WakeBy::Polling) return {};
    sys::UniqueFd ino(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (!ino) return {};
    // A response is written to a hidden temp file and renamed: IN_MOVED_TO is the
    // moment it can be read (IN_CLOSE_WRITE of the temp file would wake us too early).
    if (::inotify_add_watch(ino.get(), queue.responses_dir().c_str(), IN_MOVED_TO | IN_ONLYDIR) < 0)
        throw_errno("inotify watch on " + queue.responses_dir());
    return ino;
}

// Waits for the next event on `ino` (or, without one, one poll interval), at most `limit`.
void sleep_until_event(const sys::UniqueFd& ino, std::chrono::milliseconds limit) {
    if (!ino) {
        ::usleep(static_cast<useconds_t>(std::min(limit, std::chrono::milliseconds(kResponsePollInterval)).count() * 1000));
        return;
    }
    pollfd p{ino.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(limit.count())) > 0) {
        char buf[4096];
        while (::read(ino.get(), buf, sizeof buf) > 0) {}
    }
}

}  // namespace

Queue::Response wait_for_response(const StateDir& state, const Queue& queue, const std::string& name,
                                  unsigned timeout_sec, std::chrono::seconds daemon_grace, WakeBy wake) {
    // Watch before the first check, so a response written in between is not missed.
    const sys::UniqueFd ino = watch_responses(queue, wake);
    const auto start = Clock::now();
    const auto deadline = start + std::chrono::seconds(timeout_sec);
    bool serving = true;
    Clock::time_point not_serving_since;             // when `serving` turned false
    Clock::time_point next_heartbeat_check = start;  // the heartbeat is read once a second
    for (;;) {
        if (auto resp = queue.find_response(name)) return *resp;
        const auto now = Clock::now();
        if (timeout_sec && now >= deadline)
            throw Error("no response to request " + name + " after " + std::to_string(timeout_sec) +
                        " s (--wait-timeout); it stays queued");
        if (now >= next_heartbeat_check) {
            next_heartbeat_check = now + std::chrono::seconds(1);
            if (const auto why = daemon_not_serving(state)) {
                if (serving) not_serving_since = now;
                serving = false;
                if (now - not_serving_since >= daemon_grace) {
                    // The packaged unit serves root's default state directory only.
                    const bool system_dir = ::geteuid() == 0 && state.root() == default_state_dir();
                    throw Error("request " + name + " stays queued, nobody serves it: " + *why + "; start one: " +
                                (system_dir ? "`systemctl start aurora-jail-host`, or " : "") +
                                "`aurora-jail --state-dir " + state.root() + " host &`");
                }
            } else {
                serving = true;
            }
        }
        sleep_until_event(ino, std::chrono::duration_cast<std::chrono::milliseconds>(next_heartbeat_check - now) +
                                   std::chrono::milliseconds(1));
    }
}

}  // namespace aj::runner
