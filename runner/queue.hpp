// The host daemon's request queue on disk (STATE/queue, or `host --queue-dir DIR`), as a
// library with no threads. Three kinds of file may appear in requests/; each is answered
// under its STEM (the file name without a final ".json"):
//
//   requests/NAME.json           native request, written by `submit` (temp name
//                                ".NAME.json.tmp-*", fsync, rename), or by anyone able to
//                                write the directory; STEM = NAME
//   requests/NAME.req            the Python prototype's request file, same fields, often
//                                written in place (an empty one younger than
//                                kPartialRequestGraceSec is left for a later scan); STEM =
//                                NAME.req
//   requests/OTHER               anything else (dot files excepted: writers' temp files):
//                                not a request; claimed like one and answered with an
//                                error, so it is logged once and never silently ignored;
//                                STEM = OTHER
//   claimed/STEM.json            moved here by the daemon (rename: only the renamer owns it)
//   responses/STEM.result.json   exactly one of these two per STEM, written atomically
//   responses/STEM.error.json    (temp file, fsync, rename, fsync dir) BEFORE the claimed
//                                file is removed
//
// Response layouts: native {"request": STEM, "ts", "rc", "stdout", "stderr", ...} and
// {"request", "error", "ts"}; prototype (.req) {"req": "NAME.req", "result": {"rc",
// "stdout", "stderr", "ts", ...the native extras}} and {"req", "request", "error", "ts"}.
//
// Crash rule (one rule, never re-run, since a request may not be idempotent): at start,
// under the daemon lock, recover() answers every claimed file that has no response with
// the error "interrupted: daemon stopped while running"; a claimed file that already has a
// response is just removed. Together with "respond, then unclaim" every request is
// answered exactly once, whenever the daemon is killed. Whatever its kind, one STEM gets
// one response: a second file with an answered STEM is removed, not served.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/sys.hpp"

namespace aj::runner {

inline constexpr std::size_t kMaxRequestBytes = std::size_t{64} * 1024;
inline constexpr std::uint64_t kDefaultRequestTimeoutSec = 10;  // the prototype's default
inline constexpr std::uint64_t kMaxRequestTimeoutSec = std::uint64_t{24} * 3600;
inline constexpr std::size_t kMaxRequestNameLen = 128;
inline constexpr const char* kInterruptedReason = "interrupted: daemon stopped while running";
inline constexpr std::uint64_t kMaxRequestMemoryMb = std::uint64_t{1} << 20;  // 1 TiB
// A prototype client writes NAME.req in place (open, write, close): an empty one this
// young may still be being written.
inline constexpr int kPartialRequestGraceSec = 5;

// What kind of file a requests/ entry is (see the layouts above).
enum class RequestLayout { Native, Prototype, NotARequest };

// {"plugin": ID, "cmd": "shell command" | ["argv", ...], "timeout": S, "memory_mb": M};
// "cmd" may be left out to run the plugin's entrypoint; "timeout" and "memory_mb" may
// only tighten the plugin's policy (the daemon refuses a request that would loosen it).
// Any other field is an error.
struct Request {
    std::string plugin;
    std::optional<std::vector<std::string>> argv;  // a string cmd becomes /bin/sh -c CMD
    nlohmann::json cmd;                            // as given (null when absent)
    std::uint64_t timeout_sec = kDefaultRequestTimeoutSec;
    bool timeout_given = false;                    // false: the default above
    std::optional<std::uint64_t> memory_mb;
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
    // Up to `max` STEMs waiting in requests/, oldest name first. Dot files (writers'
    // temp files) are skipped, so is an empty NAME.req still being written.
    std::vector<std::string> scan(std::size_t max) const;
    enum class Claim { Claimed, Gone, AlreadyAnswered };
    // Moves requests/STEM.json (else requests/STEM) to claimed/STEM.json and sets
    // `layout` (when given) to the kind of file it was. Gone: someone else took it, or a
    // request of the same STEM is still in progress (it stays for a later scan).
    // AlreadyAnswered: the STEM was reused after its response was written; the duplicate
    // is removed, since one STEM gets one response.
    // The claim is made durable (claimed/ synced) before this returns, unless `sync` is
    // Later: the caller then calls sync_claims() before the request's command may start
    // (the daemon overlaps that sync with building the sandbox), or a power loss could
    // bring the request back after it ran.
    enum class Sync { Now, Later };
    Claim claim(const std::string& name, RequestLayout* layout = nullptr, Sync sync = Sync::Now) const;
    void sync_claims() const;
    // The claimed request's bytes; throws aj::Error (the reason to answer with) when it is
    // not a regular file or larger than max_bytes.
    std::string read_claimed(const std::string& name, std::size_t max_bytes = kMaxRequestBytes) const;
    // When the claim goes: Now, once the response is durable; Later, the response is
    // renamed into place (clients see it) but neither synced nor unclaimed: the caller
    // hands NAME to unclaim_answered(), which syncs many responses at once. A daemon
    // killed in between leaves claim + response, which recover() counts as answered.
    enum class Unclaim { Now, Later };
    // Writes responses/NAME.result.json, then unclaims. Native: body gets "request" and
    // "ts"; Prototype: {"req": NAME, "result": body + "ts"}.
    void answer_result(const std::string& name, nlohmann::json body,
                       RequestLayout layout = RequestLayout::Native, Unclaim unclaim = Unclaim::Now) const;
    // Writes responses/NAME.error.json {"request", "error", "ts"} (+ "req" for a NAME
    // ending in ".req"), then unclaims.
    void answer_error(const std::string& name, const std::string& reason, Unclaim unclaim = Unclaim::Now) const;
    // Makes responses/ durable (one fsync), then removes each NAME's claim.
    void unclaim_answered(const std::vector<std::string>& names) const;
    bool has_response(const std::string& name) const;
    struct Recovery {
        std::size_t interrupted = 0;       // answered with kInterruptedReason
        std::size_t already_answered = 0;  // claimed files whose response existed
    };
    // The crash rule above; also removes stale temp files.
    Recovery recover() const;

private:
    void answer(const std::string& name, const char* suffix, const nlohmann::json& body, Unclaim unclaim) const;
    bool being_written(const std::string& file, std::chrono::system_clock::time_point now) const;
    std::string dir_;
    sys::UniqueFd requests_, claimed_, responses_;
};

// The response file name for a request name ("NAME.result.json" / "NAME.error.json").
std::string response_name(const std::string& name, bool is_error);

// The kind of a requests/ entry, by its file name.
RequestLayout request_layout(std::string_view file);

}  // namespace aj::runner
