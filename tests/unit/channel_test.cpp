// The report channel's records: what PID 1 says when the command has exited.
#include <gtest/gtest.h>

#include <unistd.h>

#include "helper/channel.hpp"

using aj::helper::decode_summary;
using aj::helper::encode_summary;
using aj::helper::InitSummary;

TEST(Channel, InitSummaryRoundTrips) {
    InitSummary s;
    s.usage.ru_utime = {3, 250000};
    s.usage.ru_stime = {0, 17};
    s.last_one = true;
    std::string text = encode_summary(s);
    EXPECT_EQ(text, "3250000 17 1 0");
    auto back = decode_summary(text);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->usage.ru_utime.tv_sec, 3);
    EXPECT_EQ(back->usage.ru_utime.tv_usec, 250000);
    EXPECT_EQ(back->usage.ru_stime.tv_usec, 17);
    EXPECT_TRUE(back->last_one);
    s.last_one = false;
    EXPECT_FALSE(decode_summary(encode_summary(s))->last_one);
    s.scratch_full = true;
    EXPECT_EQ(encode_summary(s), "3250000 17 0 1");
    EXPECT_TRUE(decode_summary(encode_summary(s))->scratch_full);
}

// "The sandbox is over" must never be read into a garbled or partial record: the runner
// would stop waiting for a sandbox that may still run.
TEST(Channel, MalformedSummariesAreRefused) {
    for (const char* bad : {"", "1 2", "1 2 3", "1 2 1", "1 2 1 4", "1 2 1 0 0", "-1 2 1 0", "1 -2 0 0", "a b 1 0",
                            "1 2 1 0 ", " 1 2 1 0x"})
        EXPECT_FALSE(decode_summary(bad).has_value()) << '"' << bad << '"';
}

// Messages split across reads are reassembled; a trailing partial one waits for the rest.
TEST(Channel, MessagesSurviveArbitrarySplits) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    aj::helper::send_message(fds[1], aj::helper::MessageKind::ExecError, 2, "/bin/nope");
    aj::helper::send_message(fds[1], aj::helper::MessageKind::Status, 256, "1 2 1");
    ::close(fds[1]);
    std::string all;
    char buf[256];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) all.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    std::vector<aj::helper::Message> got;
    std::string pending;
    for (char c : all) {  // one byte at a time: the worst split there is
        pending.push_back(c);
        for (auto& m : aj::helper::take_messages(pending)) got.push_back(m);
    }
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].kind, aj::helper::MessageKind::ExecError);
    EXPECT_EQ(got[0].value, 2);
    EXPECT_EQ(got[0].text, "/bin/nope");
    EXPECT_EQ(got[1].kind, aj::helper::MessageKind::Status);
    EXPECT_EQ(got[1].value, 256);
    EXPECT_EQ(got[1].text, "1 2 1");
    EXPECT_TRUE(pending.empty());
}
