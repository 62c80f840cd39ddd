// sys::write_unless_reader_gone: a release written to a sandbox PID 1 that already died
// must come back as "gone", not as a SIGPIPE that ends aurora-jail without a word.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include "policy/sys.hpp"

TEST(SysWrite, ReaderGoneIsFalseAndRaisesNoSignal) {
    // SIGPIPE at its default action: were it raised, this test process would die.
    struct sigaction dfl{}, old{};
    dfl.sa_handler = SIG_DFL;
    ASSERT_EQ(::sigaction(SIGPIPE, &dfl, &old), 0);
    aj::sys::Pipe p = aj::sys::make_pipe("test pipe");
    EXPECT_TRUE(aj::sys::write_unless_reader_gone(p.write.get(), "x", "writing"));
    p.read.reset();
    EXPECT_FALSE(aj::sys::write_unless_reader_gone(p.write.get(), "y", "writing"));
    sigset_t pending;
    sigpending(&pending);
    EXPECT_EQ(sigismember(&pending, SIGPIPE), 0) << "the write's SIGPIPE was left pending";
    ::sigaction(SIGPIPE, &old, nullptr);
}

TEST(SysWrite, OtherErrorsThrow) {
    EXPECT_THROW(aj::sys::write_unless_reader_gone(-1, "x", "writing to a bad fd"), aj::Error);
    EXPECT_THROW(aj::sys::write_all(-1, "x", "writing to a bad fd"), aj::Error);
}
