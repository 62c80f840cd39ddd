#include "helper/init.hpp"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <chrono>
#include <ctime>

#include "helper/caps.hpp"
#include "helper/channel.hpp"
#include "helper/fds.hpp"
#include "policy/sys.hpp"

namespace aj::helper {

sigset_t forwarded_signals() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&set, sig);
    return set;
}

sigset_t init_forwarded_signals() {
    sigset_t set;
    sigfillset(&set);
    for (int sig : {SIGCHLD, SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGPIPE})
        sigdelset(&set, sig);
    return set;
}

void harden_init() {
    drop_all_capabilities();
    sys::check(::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "init: PR_SET_NO_NEW_PRIVS");
    make_init_undumpable();
}

void make_init_undumpable() { sys::check(::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "init: PR_SET_DUMPABLE 0"); }

namespace {

// Kills every other process of the pid namespace (kill(-1) from its init reaches all but
// the init) and reaps them, so that the Status message means "the sandbox is over" and
// the runner need not wait for PID 1's own, slower, exit. True once none is left;
// bounded, because a process stuck in the kernel is the kernel's teardown's to end.
bool end_everything_else() {
    ::kill(-1, SIGKILL);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);  // blocked by run_init: sigtimedwait takes it
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    for (;;) {
        pid_t pid = ::waitpid(-1, nullptr, WNOHANG);
        if (pid > 0) continue;
        if (pid < 0) {
            if (errno == EINTR) continue;
            return errno == ECHILD;
        }
        auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        const timespec wait{static_cast<time_t>(left.count() / 1000000000), static_cast<long>(left.count() % 1000000000)};
        ::sigtimedwait(&chld, nullptr, &wait);
    }
}

}  // namespace

namespace {

// Less than this much free space left on the scratch tmpfs when the command ended: a
// write there most likely failed with ENOSPC (max_tmpfs_mb).
constexpr std::uint64_t kScratchFullBelowBytes = 64 * 1024;

bool scratch_is_full(int scratch) {
    struct statfs st {};
    if (scratch < 0 || ::fstatfs(scratch, &st) != 0 || st.f_blocks == 0) return false;
    return static_cast<std::uint64_t>(st.f_bavail) * static_cast<std::uint64_t>(st.f_bsize) < kScratchFullBelowBytes;
}

}  // namespace

void run_init(pid_t command, int report_fd, int scratch) {
    release_stdio();
    sigset_t wait_set = init_forwarded_signals();
    sigaddset(&wait_set, SIGCHLD);
    // Blocked signals are queued even for a pid-namespace init (which the kernel otherwise
    // shields from signals it has no handler for); sigwaitinfo then takes them one by one.
    // SIGCHLD must not be ignored, or children would be auto-reaped without a status.
    ::signal(SIGCHLD, SIG_DFL);
    ::sigprocmask(SIG_BLOCK, &wait_set, nullptr);
    // The scratch tmpfs's high-water mark, as far as polls see it: a program that met
    // ENOSPC and then deleted its files leaves nothing full at the end.
    bool scratch_was_full = false;
    constexpr timespec kScratchPoll{0, 50'000'000};

    for (;;) {
        // Reap first: the command may already have exited before we got here.
        for (;;) {
            int status = 0;
            pid_t pid = ::waitpid(-1, &status, WNOHANG);
            if (pid == command) {
                InitSummary summary;
                summary.last_one = end_everything_else();
                summary.scratch_full = scratch_was_full || scratch_is_full(scratch);
                ::getrusage(RUSAGE_CHILDREN, &summary.usage);
                send_message(report_fd, MessageKind::Status, status, encode_summary(summary));
                ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
            }
            if (pid <= 0) break;  // 0: children left but none exited; -1 ECHILD: none left
        }
        siginfo_t info{};
        // Without a scratch tmpfs to watch, nothing but a signal wakes PID 1.
        const bool watch_scratch = scratch >= 0 && !scratch_was_full;
        int sig = watch_scratch ? ::sigtimedwait(&wait_set, &info, &kScratchPoll) : ::sigwaitinfo(&wait_set, &info);
        if (watch_scratch) scratch_was_full = scratch_is_full(scratch);
        if (sig < 0) continue;  // EINTR, or the poll's timeout (EAGAIN)
        if (sig != SIGCHLD) ::kill(command, sig);
    }
}

}  // namespace aj::helper
