// libFuzzer target for the policy parser: any input must either parse or throw
// aj::Error; anything else (another exception, a crash, a sanitizer report, a policy
// that does not survive its own round trip) is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "policy/error.hpp"
#include "policy/parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    aj::policy::Policy policy;
    try {
        policy = aj::policy::parse_policy(text, "fuzz");
    } catch (const aj::Error&) {
        return 0;
    }
    // What parses must print and re-parse to the same policy (show/hash rely on it).
    try {
        if (aj::policy::parse_policy(aj::policy::to_json(policy).dump(), "round-trip") != policy) std::abort();
    } catch (const aj::Error&) {
        std::abort();
    }
    return 0;
}
