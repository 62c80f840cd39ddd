// The host daemon's request queue on disk (STATE/queue), as a library with no threads:
//
//   requests/NAME.json           written by `submit` (temp name ".NAME.json.tmp-*", fsync,
//                                rename), or by anyone able to write the directory
//   claimed/NAME.json            moved here by the daemon (rename: only the renamer owns it)
//   responses/NAME.result.json   exactly one of these two per request, written atomically
//   responses/NAME.error.json    (temp file, fsync, rename, fsync dir) BEFORE the claimed
//                                file is removed
//
// Crash rule (one rule, never re-run, since a request may not be idempotent): at start,
// under the daemon lock, recover() answers every claimed file that has no response with
// the error "interrupted: daemon stopped while running"; a claimed file that already has a
// response is just removed. Together with "respond, then unclaim" every request is
// answered exactly once, whenever the daemon is killed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "helper/sys.hpp"

namespace aj::runner {

inline constexpr std::size_t kMaxRequestBytes = std::size_t{64} * 1024;
inline constexpr std::uint64_t kDefaultRequestTimeoutSec = 10;  // the prototype's default
inline constexpr std::uint64_t kMaxRequestTimeoutSec = std::uint64_t{24} * 3600;
inline constexpr std::size_t kMaxRequestNameLen = 128;
inline constexpr const char* kInterruptedReason = "interrupted: daemon stopped while running";

// {"plugin": ID, "cmd": "shell command" | ["argv", ...], "timeout": S}; "cmd" may be
// left out to run the plugin's entrypoint. Any other field is an error.
struct Request {
    std::string plugin;
    std::optional<std::vector<std::string>> argv;  // a string cmd becomes /bin/sh -c CMD
    nlohmann::json cmd;                            // as given (null when absent)
    std::uint64_t timeout_sec = kDefaultRequestTimeoutSec;
};

// Throws aj::Error whose message is the reason put in the error response.
Request parse_request(std::string_view text);
nlohmann::json to_json(const Request& request);

// One JSON dump for everything that may carry sandbox output: invalid UTF-8 becomes U+FFFD
// instead of an exception.
std::string dump_json(const nlohmann::json& j, int indent = -1);

class Queue {
public:
    // `dir` is STATE/queue; its sub-directories must exist (StateDir creates them).
    explicit Queue(const std::string& dir);

    // ---- client side
    // Writes the request atomically under a fresh unique name and returns that NAME.
    std::string submit(const Request& request) const;
    // The response for NAME, if written yet: result or error JSON, plus which.
    struct Response {
        bool is_error = false;
        nlohmann::json body;
    };
    std::optional<Response> find_response(const std::string& name) const;
    std::string responses_dir() const { return dir_ + "/responses"; }

    // ---- daemon side (call only while holding the daemon lock)
    // Up to `max` request NAMEs waiting in requests/, oldest name first. Dot files
    // (writers' temp files) and names not ending in ".json" are not requests.
    std::vector<std::string> scan(std::size_t max) const;
    enum class Claim { Claimed, Gone, AlreadyAnswered };
    // Moves requests/NAME.json to claimed/. Gone: someone else took it, or a request of
    // the same name is still in progress (it stays for a later scan). AlreadyAnswered:
    // the name was reused after its response was written; the duplicate is removed,
    // since one name gets one response.
    Claim claim(const std::string& name) const;
    // The claimed request's bytes; throws aj::Error (the reason to answer with) when it is
    // not a regular file or larger than max_bytes.
    std::string read_claimed(const std::string& name, std::size_t max_bytes = kMaxRequestBytes) const;
    // Writes responses/NAME.result.json (body gets "request" and "ts"), then unclaims.
    void answer_result(const std::string& name, nlohmann::json body) const;
    // Writes responses/NAME.error.json {"request", "error", "ts"}, then unclaims.
    void answer_error(const std::string& name, const std::string& reason) const;
    bool has_response(const std::string& name) const;
    struct Recovery {
        std::size_t interrupted = 0;       // answered with kInterruptedReason
        std::size_t already_answered = 0;  // claimed files whose response existed
    };
    // The crash rule above; also removes stale temp files.
    Recovery recover() const;

private:
    void answer(const std::string& name, const char* suffix, nlohmann::json body) const;
    std::string dir_;
    sys::UniqueFd requests_, claimed_, responses_;
};

// The response file name for a request name ("NAME.result.json" / "NAME.error.json").
std::string response_name(const std::string& name, bool is_error);

}  // namespace aj::runner
