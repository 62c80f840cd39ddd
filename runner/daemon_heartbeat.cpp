#include "runner/daemon_heartbeat.hpp"

#include <signal.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "policy/sys.hpp"
#include "policy/error.hpp"
#include "runner/state_dir.hpp"

namespace aj::runner {

std::string heartbeat_path(const StateDir& state) { return state.root() + "/host.heartbeat"; }

std::optional<std::string> daemon_not_serving(const StateDir& state) {
    const std::string path = heartbeat_path(state);
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0)
        return "no heartbeat at " + path + ": no daemon (`aurora-jail host`) has served this state directory";
    const auto beat = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
    const auto age = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - beat);
    if (age > kHeartbeatMaxAge)
        return "heartbeat " + path + " is " + std::to_string(age.count()) + " s old (limit " +
               std::to_string(kHeartbeatMaxAge.count()) + " s): the daemon is dead or stuck";
    // A fresh heartbeat of a daemon killed a moment ago: its pid tells (EPERM: alive,
    // another user's).
    std::string text;
    try {
        text = sys::read_file(path, 4096);
    } catch (const Error&) {
        return std::nullopt;  // replaced between stat and open: a daemon is writing it
    }
    const nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (doc.is_object() && doc.contains("pid") && doc["pid"].is_number_integer()) {
        const auto pid = doc["pid"].get<long long>();
        if (pid > 0 && pid <= INT32_MAX && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)
            return "heartbeat " + path + " names pid " + std::to_string(pid) + ", which is not running: the daemon is dead";
    }
    return std::nullopt;
}

}  // namespace aj::runner
