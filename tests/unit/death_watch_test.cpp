// DeathWatch (helper/death_watch.hpp): a process pinned while it lived tells how it died
// after its own parent reaped it, which is how the limits watch names SIGXCPU and SIGXFSZ
// in a shell's child. Real processes, real rlimits.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <map>

#include <gtest/gtest.h>

#include "helper/accounting.hpp"
#include "helper/death_watch.hpp"

namespace aj::helper {
namespace {

// A middle process that starts `grandchild`, reaps it itself, then lingers a moment:
// this process (the watch's stand-in) never waits for the grandchild. Returns the middle
// one's pid once the grandchild exists.
template <typename F>
pid_t start_family(F grandchild, int& ready_fd) {
    int p[2];
    if (::pipe(p) != 0) return -1;
    const pid_t middle = ::fork();
    if (middle == 0) {
        ::close(p[0]);
        const pid_t g = ::fork();
        if (g == 0) {
            ::close(p[1]);
            ::usleep(200'000);  // pinned meanwhile
            grandchild();
            ::_exit(0);
        }
        const char ok = 1;
        if (::write(p[1], &ok, 1) != 1) ::_exit(1);
        int status = 0;
        ::waitpid(g, &status, 0);
        ::usleep(100'000);
        ::_exit(0);
    }
    ::close(p[1]);
    char ok = 0;
    if (::read(p[0], &ok, 1) != 1) return -1;
    ready_fd = p[0];
    return middle;
}

std::map<int, DeathWatch::Death> watch_family(pid_t middle) {
    DeathWatch watch({SIGXCPU, SIGXFSZ});
    const pid_t self = ::getpid();
    watch.poll(self, process_tree(self));
    int status = 0;
    ::waitpid(middle, &status, 0);
    watch.collect();
    if (!watch.works()) return {{-1, {}}};
    return watch.deaths();
}

TEST(DeathWatch, SeesAGrandchildKilledBySigxfsz) {
    int fd = -1;
    const pid_t middle = start_family(
        [] {
            rlimit small{4096, 4096};
            ::setrlimit(RLIMIT_FSIZE, &small);
            char path[] = "/tmp/aj-death-watch-XXXXXX";
            const int out = ::mkstemp(path);
            ::unlink(path);
            char block[8192] = {};
            // The first write stops at the limit (4096 of 8192); the next is past it: SIGXFSZ.
            for (int i = 0; i < 2; ++i)
                if (::write(out, block, sizeof block) < 0) ::_exit(2);
        },
        fd);
    ASSERT_GT(middle, 0);
    const auto deaths = watch_family(middle);
    ::close(fd);
    if (deaths.contains(-1)) GTEST_SKIP() << "this kernel keeps no exit status for pidfds (before Linux 6.15)";
    ASSERT_TRUE(deaths.contains(SIGXFSZ));
    EXPECT_FALSE(deaths.contains(SIGXCPU));
    EXPECT_FALSE(deaths.at(SIGXFSZ).command.empty());
}

TEST(DeathWatch, OtherEndsAreNotKept) {
    int fd = -1;
    const pid_t middle = start_family([] { ::raise(SIGTERM); }, fd);
    ASSERT_GT(middle, 0);
    const auto deaths = watch_family(middle);
    ::close(fd);
    EXPECT_TRUE(deaths.empty() || deaths.contains(-1));
}

}  // namespace
}  // namespace aj::helper
