// Probe programs for what a shell cannot do (raw syscalls, int 0x80, TIOCSTI, sockets).
// Linked into every run_*_test binary: run as `TEST_BINARY --aj-probe NAME ARGS...` (inside
// a sandbox), the binary runs the probe from an ELF constructor, prints one line and exits
// before GoogleTest's main. This way the probe is wherever the test binary is, including
// the copy the as-nobody run makes in /tmp.
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <mqueue.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

// "ok" or the errno's name: what every probe prints.
int report(long rc) {
    if (rc >= 0) {
        std::printf("ok %ld\n", rc);
    } else {
        const char* name = strerrorname_np(errno);
        std::printf("%s\n", name ? name : "errno?");
    }
    std::fflush(stdout);
    return 0;
}

int tcp_connect(const char* ip, int port) {
    int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return report(-1);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, ip, &addr.sin_addr);
    return report(::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr));
}

// Listens on 127.0.0.1 (any port) and connects to itself: works only with lo up.
int loopback_self_connect() {
    int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(l, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return report(-1);
    if (::listen(l, 1) != 0) return report(-1);
    socklen_t len = sizeof addr;
    ::getsockname(l, reinterpret_cast<sockaddr*>(&addr), &len);
    return tcp_connect("127.0.0.1", ntohs(addr.sin_port));
}

// i386 getppid (64) through the 32-bit entry point; the 64-bit number is different (110),
// which is exactly how a filter that only knows x86_64 numbers would be bypassed.
long int80_getppid() {
#if defined(__x86_64__)
    long ret = 64;
    asm volatile("int $0x80" : "+a"(ret) : : "memory", "r8", "r9", "r10", "r11");
    return ret;
#else
    return -ENOSYS;
#endif
}

// N threads released at once, each making one getppid: prints "ERRNO COUNT" when every
// one was refused with the same errno, "mixed" otherwise (the denial supervisor's test).
int threads_getppid(int n) {
    std::atomic<bool> go{false};
    std::vector<int> errs(static_cast<std::size_t>(n), 0);
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i)
        threads.emplace_back([&go, &errs, i] {
            while (!go.load()) {
            }
            errs[static_cast<std::size_t>(i)] = ::syscall(SYS_getppid) < 0 ? errno : 0;
        });
    go = true;
    for (auto& t : threads) t.join();
    for (int e : errs)
        if (e == 0 || e != errs.front()) {
            std::printf("mixed\n");
            return 0;
        }
    std::printf("%s %d\n", strerrorname_np(errs.front()), n);
    return 0;
}

// A filter of the sandboxed program's own, under the sandbox's: first one with a
// listener of its own (the kernel allows one listener per filter chain), then one that
// refuses getppid with ENOANO; prints both results and then getppid's.
int nested_filter() {
    sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
    sock_fprog allow_prog{1, allow};
    report(::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &allow_prog));
    sock_filter refuse[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOANO),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog refuse_prog{4, refuse};
    report(::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &refuse_prog));
    return report(::syscall(SYS_getppid));
}

// Takes inotify instances (or 8 KiB POSIX message queues) until the kernel refuses one,
// prints "held N ERRNO", then holds them for `hold_sec` seconds: the quota tests look at
// the host meanwhile.
int fill_quota(const std::string& what, int hold_sec) {
    long held = 0;
    for (; held < 100000; ++held) {
        int rc = -1;
        if (what == "inotify") {
            rc = ::inotify_init1(IN_CLOEXEC);
        } else {
            mq_attr attr{};
            attr.mq_maxmsg = 1;
            attr.mq_msgsize = 8192;
            const std::string name = "/aj-fill-" + std::to_string(held);
            rc = ::mq_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &attr);
        }
        if (rc < 0) break;
    }
    const char* err = strerrorname_np(errno);
    std::printf("held %ld %s\n", held, err ? err : "?");
    std::fflush(stdout);
    ::sleep(static_cast<unsigned>(hold_sec));
    return 0;
}

// What a sandbox could do to the caller's `>> log` file if fd 1 were that file: shrink it
// and grow it. Prints one result per call.
int stdout_file_attack() {
    long truncated = ::ftruncate(1, 0);
    int err = errno;
    long grown = ::fallocate(1, 0, 0, 1 << 20);
    errno = err;
    report(truncated);
    return report(grown);
}

// What a sandbox could leave behind on the caller's terminal if fd 0 were it: exclusive
// mode, the n_null line discipline, no echo and no canonical mode. One result per call.
int terminal_attack() {
    report(::ioctl(0, TIOCEXCL));
    int ldisc = 27;  // N_NULL of <linux/tty.h>, which clashes with <termios.h>
    report(::ioctl(0, TIOCSETD, &ldisc));
    termios t{};
    if (::tcgetattr(0, &t) != 0) return report(-1);
    t.c_lflag &= ~static_cast<tcflag_t>(ECHO | ICANON | ISIG);
    return report(::tcsetattr(0, TCSANOW, &t));
}

int run_probe(const std::string& name, int argc, char** argv) {
    if (name == "stdout-file-attack") return stdout_file_attack();
    if (name == "terminal-attack") return terminal_attack();
    if ((name == "fill-inotify" || name == "fill-mqueue") && argc > 0)
        return fill_quota(name.substr(5), std::stoi(argv[0]));
    if (name == "getppid") return report(::syscall(SYS_getppid));
    if (name == "threads-getppid" && argc > 0) return threads_getppid(std::stoi(argv[0]));
    if (name == "nested-filter") return nested_filter();
    if (name == "int80-getppid") {
        long r = int80_getppid();
        if (r < 0) std::printf("%s\n", strerrorname_np(static_cast<int>(-r)));
        else std::printf("ok %ld\n", r);
        return 0;
    }
    if (name == "kill" && argc > 0) return report(::kill(std::stoi(argv[0]), 0));
    if (name == "connect" && argc > 1) return tcp_connect(argv[0], std::stoi(argv[1]));
    if (name == "loopback") return loopback_self_connect();
    if (name == "tiocsti") {
        char c = '#';
        return report(::ioctl(0, TIOCSTI, &c));
    }
    if (name == "fd" && argc > 0) return report(::fcntl(std::stoi(argv[0]), F_GETFD));
    if (name == "write" && argc > 0) {
        int fd = ::open(argv[0], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        return report(fd < 0 ? -1 : ::write(fd, "x", 1));
    }
    if (name == "read" && argc > 0) {
        int fd = ::open(argv[0], O_RDONLY | O_CLOEXEC);
        char c;
        return report(fd < 0 ? -1 : ::read(fd, &c, 1));
    }
    if (name == "socket" && argc > 2)  // FAMILY TYPE PROTOCOL, as numbers
        return report(::socket(std::stoi(argv[0]), std::stoi(argv[1]) | SOCK_CLOEXEC, std::stoi(argv[2])));
    if (name == "unix-connect" && argc > 0) {
        int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0) return report(-1);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", argv[0]);
        return report(::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr));
    }
    if (name == "chmod" && argc > 0) return report(::chmod(argv[0], 0600));
    if (name == "utime" && argc > 0) return report(::utimensat(AT_FDCWD, argv[0], nullptr, 0));
    if (name == "setxattr" && argc > 0) return report(::setxattr(argv[0], "user.aj", "x", 1, 0));
    // FILE MIB: not dumpable (so an unprivileged runner may not list its descriptors),
    // writes MIB MiB into FILE unlinked, slowly; "ok" when nothing stopped it.
    if (name == "hidden-writes" && argc > 1) {
        if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return report(-1);
        int fd = ::open(argv[0], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || ::unlink(argv[0]) != 0) return report(-1);
        static char chunk[1 << 20];
        std::memset(chunk, 'x', sizeof chunk);
        for (int i = 0; i < std::stoi(argv[1]); ++i) {
            if (::write(fd, chunk, sizeof chunk) != static_cast<ssize_t>(sizeof chunk)) return report(-1);
            ::usleep(20000);
        }
        return report(0);
    }
    // FILE MODE MIB: the raw fallocate(2) call (no C library fallback), MODE as a number.
    if (name == "fallocate" && argc > 2) {
        int fd = ::open(argv[0], O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) return report(-1);
        ::signal(SIGXFSZ, SIG_IGN);  // past RLIMIT_FSIZE: EFBIG rather than death
        return report(::syscall(SYS_fallocate, fd, std::stoi(argv[1]), 0L, std::stol(argv[2]) << 20));
    }
    std::printf("unknown probe %s\n", name.c_str());
    return 2;
}

// glibc passes argc/argv to ELF constructors.
__attribute__((constructor)) void probe_entry(int argc, char** argv, char**) {
    if (argc < 3 || std::strcmp(argv[1], "--aj-probe") != 0) return;
    int rc = run_probe(argv[2], argc - 3, argv + 3);
    std::fflush(stdout);
    ::_exit(rc);
}

}  // namespace
