// Descriptors over a Unix socket (runner/fd_passing.hpp), as the host daemon hands each
// request's pipes and reply socket to its launcher: they arrive as the same open files,
// close-on-exec, with the bytes they came with; EOF is an empty message.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "policy/error.hpp"
#include "policy/sys.hpp"
#include "runner/fd_passing.hpp"

using aj::runner::recv_with_fds;
using aj::runner::send_with_fds;
using aj::sys::UniqueFd;

namespace {

struct SocketPair {
    UniqueFd a, b;
    explicit SocketPair(int type) {
        int fds[2];
        EXPECT_EQ(::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds), 0);
        a.reset(fds[0]);
        b.reset(fds[1]);
    }
};

ino_t inode_of(int fd) {
    struct stat st{};
    EXPECT_EQ(::fstat(fd, &st), 0);
    return st.st_ino;
}

}  // namespace

TEST(FdPassing, DescriptorsArriveAsTheSameFilesCloseOnExec) {
    SocketPair sp(SOCK_SEQPACKET);
    aj::sys::Pipe p1 = aj::sys::make_pipe("p1"), p2 = aj::sys::make_pipe("p2");
    const int fds[] = {p1.write.get(), p2.write.get()};
    send_with_fds(sp.a.get(), "order", fds, "sending");
    std::vector<UniqueFd> got;
    EXPECT_EQ(recv_with_fds(sp.b.get(), 1024, got, "receiving"), "order");
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(inode_of(got[0].get()), inode_of(p1.write.get()));
    EXPECT_EQ(inode_of(got[1].get()), inode_of(p2.write.get()));
    EXPECT_TRUE(::fcntl(got[0].get(), F_GETFD) & FD_CLOEXEC);
    EXPECT_TRUE(::fcntl(got[1].get(), F_GETFD) & FD_CLOEXEC);
    // A write through the received descriptor reaches the original pipe.
    ASSERT_EQ(::write(got[1].get(), "x", 1), 1);
    char c = 0;
    EXPECT_EQ(::read(p2.read.get(), &c, 1), 1);
    EXPECT_EQ(c, 'x');
}

TEST(FdPassing, EofIsAnEmptyMessageAndAMessageTooLargeIsRefused) {
    {
        SocketPair sp(SOCK_SEQPACKET);
        send_with_fds(sp.a.get(), std::string(100, 'a'), {}, "sending");
        std::vector<UniqueFd> got;
        EXPECT_THROW(recv_with_fds(sp.b.get(), 10, got, "receiving"), aj::Error);
        sp.a.reset();
        EXPECT_EQ(recv_with_fds(sp.b.get(), 10, got, "receiving"), "");
        EXPECT_TRUE(got.empty());
    }
    SocketPair sp(SOCK_STREAM);
    sp.b.reset();
    // The peer is gone: EPIPE as an error, never a SIGPIPE that would end the daemon.
    EXPECT_THROW(send_with_fds(sp.a.get(), "x", {}, "sending"), aj::Error);
}
