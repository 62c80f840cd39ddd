// libFuzzer target: host daemon request parsing. Any input is a valid request that keeps
// the daemon's invariants, or an aj::Error (an error response); never a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "policy/error.hpp"
#include "runner/manifest.hpp"
#include "runner/queue.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    aj::runner::Request r;
    try {
        r = aj::runner::parse_request(text);
    } catch (const aj::Error&) {
        return 0;
    }
    if (!aj::runner::is_safe_name(r.plugin)) std::abort();
    if (r.timeout_sec < 1 || r.timeout_sec > aj::runner::kMaxRequestTimeoutSec) std::abort();
    if (r.argv && (r.argv->empty() || (*r.argv)[0].empty())) std::abort();
    if (r.argv)
        for (const auto& a : *r.argv)
            if (a.find('\0') != std::string::npos) std::abort();
    // submit() re-parses what it writes: that must always succeed and mean the same.
    aj::runner::Request again = aj::runner::parse_request(aj::runner::dump_json(aj::runner::to_json(r)));
    if (again.plugin != r.plugin || again.argv != r.argv || again.timeout_sec != r.timeout_sec ||
        again.timeout_given != r.timeout_given || again.memory_mb != r.memory_mb)
        std::abort();
    // Response bodies with arbitrary bytes still serialise.
    (void)aj::runner::dump_json(nlohmann::json{{"stdout", std::string(text)}});
    return 0;
}
