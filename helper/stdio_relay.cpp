#include "helper/stdio_relay.hpp"

#include <fcntl.h>
#include <linux/kcmp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>

namespace aj::helper {

namespace {

constexpr std::size_t kChunk = 1 << 16;
// Larger sandbox pipes: fewer wake-ups per byte relayed. Failing to enlarge is harmless.
constexpr int kPipeSize = 1 << 18;

// Whether two of this process's fds are the same open file description (`>out 2>&1`).
bool same_open_file(int a, int b) {
    const pid_t self = ::getpid();
    return ::syscall(SYS_kcmp, self, self, KCMP_FILE, a, b) == 0;
}

bool is_terminal(int fd) {
    termios t{};
    return ::tcgetattr(fd, &t) == 0;
}

// The null device (character device 1:3, whatever its path): it has no data, no size, no
// terminal state and no flag that changes what it does, so the sandbox may hold the
// caller's own open file of it (a daemon's or benchmark's `</dev/null >/dev/null`)
// without anything to truncate, grow, lock out or reconfigure for the caller. Relaying
// it would only cost a pipe and a stream per run.
bool is_null_device(int fd) {
    struct stat st {};
    return ::fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3);
}

void set_nonblocking(int fd) {
    int flags = sys::check(::fcntl(fd, F_GETFL), "stdio relay: F_GETFL");
    sys::check(::fcntl(fd, F_SETFL, flags | O_NONBLOCK), "stdio relay: F_SETFL O_NONBLOCK");
}

sys::Pipe relay_pipe() {
    sys::Pipe p = sys::make_pipe("creating a stdio relay pipe");
    (void)::fcntl(p.write.get(), F_SETPIPE_SZ, kPipeSize);
    return p;
}

}  // namespace

// One direction of the relay. `src` and `dst` are either ours (owned_*, non-blocking) or
// the caller's (never changed: its flags are shared with whoever else holds the file).
struct StdioRelay::Stream {
    int src = -1;
    int dst = -1;
    sys::UniqueFd owned_src, owned_dst;
    bool is_input = false;     // caller's stdin -> sandbox
    bool done = false;
    bool use_splice = true;    // until the kernel says this pair cannot splice (EINVAL)
    bool dst_full = false;     // wait for POLLOUT on dst before moving more
    std::string pending;       // read but not yet written (read/write fallback)
    DiskBudget* budget = nullptr;  // count_output(): the output's bytes count here

    // What this move may take from the sandbox: a chunk, or what the budget still allows.
    std::size_t allowance() const {
        return budget ? static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, budget->output_allowance())) : kChunk;
    }

    // The budget allows no more: read and drop what the sandbox writes (it neither blocks
    // nor learns anything), saying so once.
    void discard() {
        if (budget->note_output_cut())
            std::fprintf(stderr,
                         "aurora-jail: the sandbox's output passed the disk budget (max_disk_mb); the rest of it "
                         "is discarded\n");
        std::array<char, kChunk> buf;
        ssize_t n = sys::retry_eintr([&] { return ::read(src, buf.data(), buf.size()); });
        if (n == 0 || (n < 0 && errno != EAGAIN)) end();
    }

    // Ends the stream. For the sandbox's output, closing our read end gives its writers
    // EPIPE/SIGPIPE, as the caller's own fd would have; for input, closing our write end
    // is the sandbox's EOF.
    void end() {
        done = true;
        pending.clear();
        owned_src.reset();
        owned_dst.reset();
    }

    short wanted_events(int& fd) const {
        if (dst_full || !pending.empty()) {
            fd = dst;
            return POLLOUT;
        }
        fd = src;
        return POLLIN;
    }

    // Writes `pending` as far as dst takes it now; ends the stream when dst is gone.
    void flush() {
        while (!pending.empty()) {
            ssize_t n = sys::retry_eintr([&] { return ::write(dst, pending.data(), pending.size()); });
            if (n < 0 && errno == EAGAIN) {
                dst_full = true;
                return;
            }
            if (n <= 0) return end();  // EPIPE, EIO, ENOSPC...: the destination is gone
            pending.erase(0, static_cast<std::size_t>(n));
        }
        dst_full = false;
    }

    // Moves one chunk; returns the number of bytes moved (0 also when none could be).
    std::size_t move() {
        const std::size_t most = allowance();
        if (most == 0) {
            discard();
            return 0;
        }
        if (use_splice) {
            ssize_t n = sys::retry_eintr([&] {
                return ::splice(src, nullptr, dst, nullptr, most, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
            });
            if (n > 0) {
                if (budget) budget->add_output_bytes(static_cast<std::uint64_t>(n));
                return static_cast<std::size_t>(n);
            }
            if (n == 0) {
                end();
                return 0;
            }
            if (errno == EAGAIN) {
                dst_full = true;  // or a spurious wake-up: POLLOUT then returns at once
                return 0;
            }
            if (errno != EINVAL) {
                end();  // EPIPE: the reader went away; EIO: a pseudo-terminal with no slave left
                return 0;
            }
            use_splice = false;  // neither end a pipe, an O_APPEND file, a terminal...
        }
        std::array<char, kChunk> buf;
        ssize_t n = sys::retry_eintr([&] { return ::read(src, buf.data(), most); });
        if (n < 0 && errno == EAGAIN) return 0;
        if (n <= 0) {
            end();
            return 0;
        }
        if (budget) budget->add_output_bytes(static_cast<std::uint64_t>(n));
        pending.assign(buf.data(), static_cast<std::size_t>(n));
        flush();
        return static_cast<std::size_t>(n);
    }

    void on_event(short revents) {
        if (done || !revents) return;
        if (dst_full || !pending.empty()) {
            dst_full = false;
            if (!pending.empty()) flush();
            return;
        }
        move();
    }
};

StdioRelay::StdioRelay(StdioMode mode, const int (&caller)[3]) {
    if (mode == StdioMode::PassThrough) {
        for (int i = 0; i < 3; ++i) sandbox_.fds[i] = caller[i];
        return;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigaddset(&set, SIGWINCH);
    signals_.emplace(set);
    open_terminal(caller);

    // The caller's own null device as it is; pipes for whichever other of 0-2 is not a terminal.
    if ((sandbox_.terminal < 0 || sandbox_.fds[0] != sandbox_.terminal) && is_null_device(caller[0])) {
        sandbox_.fds[0] = caller[0];
    } else if (sandbox_.terminal < 0 || sandbox_.fds[0] != sandbox_.terminal) {
        sys::Pipe in = relay_pipe();
        sandbox_.fds[0] = in.read.get();
        sandbox_ends_.push_back(std::move(in.read));
        auto s = std::make_unique<Stream>();
        s->src = caller[0];
        s->dst = in.write.get();
        s->owned_dst = std::move(in.write);
        s->is_input = true;
        set_nonblocking(s->dst);
        streams_.push_back(std::move(s));
    }
    for (int i = 1; i < 3; ++i) {
        if (sandbox_.terminal >= 0 && sandbox_.fds[i] == sandbox_.terminal) continue;
        if (is_null_device(caller[i])) {
            sandbox_.fds[i] = caller[i];
            continue;
        }
        if (i == 2 && sandbox_.terminal < 0 && same_open_file(caller[1], caller[2])) {
            sandbox_.fds[2] = sandbox_.fds[1];  // one pipe: the caller's order is kept
            continue;
        }
        sys::Pipe out = relay_pipe();
        sandbox_.fds[i] = out.write.get();
        sandbox_ends_.push_back(std::move(out.write));
        auto s = std::make_unique<Stream>();
        s->src = out.read.get();
        s->dst = caller[i];
        s->owned_src = std::move(out.read);
        set_nonblocking(s->src);
        streams_.push_back(std::move(s));
    }
}

// A new pseudo-terminal for whichever of the caller's 0-2 are terminals, with the
// caller's settings and window size; the sandbox gets its slave.
void StdioRelay::open_terminal(const int (&caller)[3]) {
    int out_terminal = -1;
    for (int i : {1, 2, 0})
        if (is_terminal(caller[i])) {
            if (caller_terminal_ < 0 || i == 0) caller_terminal_ = caller[i];
            if (out_terminal < 0) out_terminal = caller[i];
        }
    if (caller_terminal_ < 0) return;
    master_ = sys::UniqueFd(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!master_) throw_errno("stdio relay: opening a pseudo-terminal (/dev/ptmx)");
    sys::check(::unlockpt(master_.get()), "stdio relay: unlockpt");
    // TIOCGPTPEER opens the slave through the master, never through a path in /dev/pts.
    sys::UniqueFd slave(::ioctl(master_.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!slave) throw_errno("stdio relay: opening the pseudo-terminal's slave (TIOCGPTPEER)");
    termios mode{};
    if (::tcgetattr(caller_terminal_, &mode) == 0)
        sys::check(::tcsetattr(slave.get(), TCSANOW, &mode), "stdio relay: copying the terminal's settings");
    sandbox_.terminal = slave.get();
    for (int i = 0; i < 3; ++i)
        if (is_terminal(caller[i])) sandbox_.fds[i] = slave.get();
    sandbox_ends_.push_back(std::move(slave));
    set_nonblocking(master_.get());
    sync_window_size();

    auto in = std::make_unique<Stream>();
    if (sandbox_.fds[0] == sandbox_.terminal) {
        in->src = caller[0];
        in->dst = master_.get();
        in->is_input = true;
        streams_.push_back(std::move(in));
        keys_from_ = caller[0];
    }
    auto out = std::make_unique<Stream>();
    out->src = master_.get();
    out->dst = out_terminal;
    streams_.push_back(std::move(out));
}

void StdioRelay::sync_window_size() {
    winsize size{};
    if (master_ && ::ioctl(caller_terminal_, TIOCGWINSZ, &size) == 0) (void)::ioctl(master_.get(), TIOCSWINSZ, &size);
}

void StdioRelay::started() {
    sandbox_ends_.clear();
    if (keys_from_ < 0) return;
    // A background job reads no keys (its read would stop this process with SIGTTIN, and
    // the sandbox's timeout with it) and leaves the terminal's settings alone (SIGTTOU).
    if (::tcgetpgrp(keys_from_) != ::getpgrp()) {
        for (auto& s : streams_)
            if (s->is_input) s->end();
        return;
    }
    termios saved{};
    if (::tcgetattr(keys_from_, &saved) != 0) return;
    termios raw = saved;
    ::cfmakeraw(&raw);
    if (::tcsetattr(keys_from_, TCSADRAIN, &raw) == 0) saved_termios_ = saved;
}

StdioRelay::~StdioRelay() {
    if (saved_termios_) (void)::tcsetattr(keys_from_, TCSADRAIN, &*saved_termios_);
}

void StdioRelay::add_poll_fds(std::vector<pollfd>& fds) {
    poll_offset_ = fds.size();
    fds.push_back({signals_ ? signals_->fd() : -1, POLLIN, 0});
    for (const auto& s : streams_) {
        int fd = -1;
        short events = s->wanted_events(fd);
        fds.push_back({s->done ? -1 : fd, events, 0});  // poll(2) skips negative fds
    }
}

void StdioRelay::on_poll(const std::vector<pollfd>& fds) {
    if (poll_offset_ + 1 + streams_.size() > fds.size()) return;
    if (fds[poll_offset_].revents & POLLIN) {
        signalfd_siginfo info;
        bool resized = false;
        while (::read(signals_->fd(), &info, sizeof info) == static_cast<ssize_t>(sizeof info))
            resized |= info.ssi_signo == SIGWINCH;
        if (resized) sync_window_size();
    }
    for (std::size_t i = 0; i < streams_.size(); ++i) streams_[i]->on_event(fds[poll_offset_ + 1 + i].revents);
}

void StdioRelay::count_output(DiskBudget& budget) {
    if (!budget.limited()) return;
    budget.count_relay_output();
    for (auto& s : streams_)
        if (!s->is_input) s->budget = &budget;
}

void StdioRelay::finish(std::chrono::milliseconds idle_limit) {
    using Clock = std::chrono::steady_clock;
    // The caller's input is no longer anyone's: leave the rest of it to the caller.
    for (auto& s : streams_)
        if (s->is_input) s->end();
    auto last_progress = Clock::now();
    for (;;) {
        bool open = false;
        bool waiting_on_caller = false;
        for (const auto& s : streams_) {
            open |= !s->done;
            waiting_on_caller |= !s->done && (s->dst_full || !s->pending.empty());
        }
        if (!open) return;
        // A caller reading slowly is waited for, as the command would have been; a
        // sandbox side that neither ends nor speaks (a writer stuck in the kernel, or in
        // rlimit-only mode one that left the session) is not.
        if (waiting_on_caller) last_progress = Clock::now();
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(last_progress + idle_limit - Clock::now());
        if (left.count() <= 0) {
            for (auto& s : streams_) s->end();
            return;
        }
        std::vector<pollfd> fds;
        add_poll_fds(fds);
        int n = ::poll(fds.data(), fds.size(), waiting_on_caller ? -1 : static_cast<int>(left.count()));
        if (n < 0 && errno != EINTR) throw_errno("stdio relay: draining the sandbox's output (poll)");
        if (n > 0) {
            on_poll(fds);
            last_progress = Clock::now();
        }
    }
}

}  // namespace aj::helper
