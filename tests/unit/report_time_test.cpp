// The run report's timestamps: calendar arithmetic must agree with the C library's.
#include <gtest/gtest.h>

#include <ctime>

#include "runner/report.hpp"

namespace {

std::string libc_utc(std::time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

}  // namespace

TEST(ReportTime, MatchesGmtimeAcrossCalendarEdges) {
    // Epoch, a leap day, the last second of a year, 2038 and later, and a spread of others.
    std::vector<std::time_t> times{0, 951782400, 1709164800, 1709251199, 1767225599, 2147483647, 2147483648, 4102444800};
    for (std::time_t t = 86399; t < 4102444800; t += 7919 * 86400 + 3607) times.push_back(t);
    for (std::time_t t : times)
        EXPECT_EQ(aj::runner::utc_timestamp(std::chrono::system_clock::from_time_t(t)), libc_utc(t)) << t;
}

TEST(ReportTime, SubSecondsAreCutNotRounded) {
    auto t = std::chrono::system_clock::from_time_t(1709251199) + std::chrono::milliseconds(999);
    EXPECT_EQ(aj::runner::utc_timestamp(t), "2024-02-29T23:59:59Z");
}
