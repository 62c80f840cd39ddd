// A queued request's timeout and memory_mb may tighten the plugin's policy, never loosen it.
#include <gtest/gtest.h>

#include "policy/default_policy.hpp"
#include "policy/error.hpp"
#include "runner/queue.hpp"
#include "runner/request_limits.hpp"

using aj::runner::parse_request;
using aj::runner::tighten_only;

namespace {
aj::policy::Policy policy_with(std::optional<std::uint64_t> memory_mb, std::optional<std::uint64_t> timeout_sec) {
    aj::policy::Policy p = aj::policy::default_policy();
    p.limits.memory_mb = memory_mb;
    p.limits.timeout_sec = timeout_sec;
    return p;
}

std::string refusal(const std::string& request, const aj::policy::Policy& p) {
    try {
        tighten_only(parse_request(request), p, "acme");
    } catch (const aj::Error& e) {
        return e.what();
    }
    return "";
}
}  // namespace

TEST(RequestLimits, TighterValuesAreApplied) {
    auto p = policy_with(256, 60);
    auto l = tighten_only(parse_request(R"({"plugin":"acme","timeout":5,"memory_mb":64})"), p, "acme");
    EXPECT_EQ(l.timeout_sec, 5u);
    EXPECT_EQ(l.memory_mb, 64u);
    l = tighten_only(parse_request(R"({"plugin":"acme","timeout":60,"memory_mb":256})"), p, "acme");  // equal is fine
    EXPECT_EQ(l.timeout_sec, 60u);
    EXPECT_EQ(l.memory_mb, 256u);
}

TEST(RequestLimits, LooserValuesAreRefusedWithBothValues) {
    auto p = policy_with(256, 60);
    EXPECT_EQ(refusal(R"({"plugin":"acme","memory_mb":257})", p),
              "request memory_mb 257 exceeds plugin acme's policy (max_memory_mb 256); a request may only "
              "tighten the policy's limits");
    EXPECT_EQ(refusal(R"({"plugin":"acme","timeout":61})", p),
              "request timeout 61 exceeds plugin acme's policy (timeout_sec 60); a request may only tighten "
              "the policy's limits");
}

TEST(RequestLimits, DefaultTimeoutIsCappedNotRefused) {
    auto l = tighten_only(parse_request(R"({"plugin":"acme"})"), policy_with(256, 3), "acme");
    EXPECT_EQ(l.timeout_sec, 3u);
    EXPECT_FALSE(l.memory_mb);
    l = tighten_only(parse_request(R"({"plugin":"acme"})"), policy_with(256, 300), "acme");
    EXPECT_EQ(l.timeout_sec, aj::runner::kDefaultRequestTimeoutSec);
}

TEST(RequestLimits, PolicyWithoutALimitAcceptsAny) {
    auto l = tighten_only(parse_request(R"({"plugin":"acme","timeout":7200,"memory_mb":4096})"),
                          policy_with(std::nullopt, std::nullopt), "acme");
    EXPECT_EQ(l.timeout_sec, 7200u);
    EXPECT_EQ(l.memory_mb, 4096u);
}
