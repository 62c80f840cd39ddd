/* Attacks through sockets (raw sockets, the host's loopback and abstract unix sockets)
 * and through the terminal (TIOCSTI injection incl. CVE-2019-10063's high bits, TIOCLINUX). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "probe.h"

static const int ERR_SOCK[] = {EPERM, EACCES, ENOSYS, EAFNOSUPPORT, EPROTONOSUPPORT, 0};

void attack_socket_packet_raw(void) {
    long fd = syscall(SYS_socket, (long)AF_PACKET, (long)(SOCK_RAW | SOCK_CLOEXEC), (long)htons(ETH_P_ALL));
    judge_call("socket(AF_PACKET, SOCK_RAW)", fd, errno, ERR_SOCK);
}

void attack_socket_inet_raw(void) {
    long fd = syscall(SYS_socket, (long)AF_INET, (long)(SOCK_RAW | SOCK_CLOEXEC), (long)IPPROTO_ICMP);
    judge_call("socket(AF_INET, SOCK_RAW, ICMP)", fd, errno, ERR_SOCK);
}

void attack_tcp_host_loopback(void) {
    if (g_ctx->tcp_port <= 0) SKIPPED("no tcp_port= given");
    long fd = syscall(SYS_socket, (long)AF_INET, (long)(SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC), 0L);
    if (fd < 0) judge_call("socket(AF_INET)", fd, errno, ERR_SOCK);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)g_ctx->tcp_port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    long rc = syscall(SYS_connect, fd, &sa, (long)sizeof sa);
    int e = errno;
    if (rc != 0 && e == EINPROGRESS) {
        struct pollfd p = {(int)fd, POLLOUT, 0};
        if (poll(&p, 1, 3000) == 0) BLOCKED("connect 127.0.0.1:%ld: no answer in 3 s", g_ctx->tcp_port);
        socklen_t len = sizeof e;
        getsockopt((int)fd, SOL_SOCKET, SO_ERROR, &e, &len);
        rc = e ? -1 : 0;
    }
    if (rc == 0) ESCAPED("connected to the host's 127.0.0.1:%ld", g_ctx->tcp_port);
    static const int blocked[] = {ECONNREFUSED, ENETUNREACH, EHOSTUNREACH, EPERM, EACCES, ETIMEDOUT, 0};
    judge_call("connect(127.0.0.1)", -1, e, blocked);
}

void attack_abstract_unix_host(void) {
    if (!g_ctx->unix_name) SKIPPED("no unix_abstract= given");
    long fd = syscall(SYS_socket, (long)AF_UNIX, (long)(SOCK_STREAM | SOCK_CLOEXEC), 0L);
    if (fd < 0) judge_call("socket(AF_UNIX)", fd, errno, ERR_SOCK);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    size_t n = strlen(g_ctx->unix_name);
    if (n > sizeof sa.sun_path - 1) n = sizeof sa.sun_path - 1;
    memcpy(sa.sun_path + 1, g_ctx->unix_name, n); /* sun_path[0] = 0: abstract */
    long rc = syscall(SYS_connect, fd, &sa, (long)(offsetof(struct sockaddr_un, sun_path) + 1 + n));
    int e = errno;
    if (rc == 0) ESCAPED("connected to the host's abstract socket @%s", g_ctx->unix_name);
    static const int blocked[] = {ECONNREFUSED, ENOENT, EPERM, EACCES, 0};
    judge_call("connect(abstract unix)", rc, e, blocked);
}

/* ---- terminal ---------------------------------------------------------------------- */

static const int ERR_TTY[] = {EPERM, EACCES, ENOSYS, EIO, 0};

/* A terminal fd to inject into: fd 0 if it is one, else /dev/tty; -1 with a reason. */
static int some_tty(char *why, size_t len) {
    if (isatty(0)) return 0;
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd >= 0) return fd;
    snprintf(why, len, "fd 0 is not a terminal and /dev/tty: %s", ename(errno));
    return -1;
}

void attack_tiocsti_fd0(void) {
    if (!isatty(0)) SKIPPED("fd 0 is not a terminal: nothing to inject into");
    char c = ' ';
    long rc = syscall(SYS_ioctl, 0L, (long)TIOCSTI, &c);
    judge_call("ioctl(0, TIOCSTI)", rc, errno, ERR_TTY);
}

void attack_tiocsti_dev_tty(void) {
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == ENXIO || e == ENOENT || e == EACCES || e == EPERM || e == EIO)
            BLOCKED("open /dev/tty: %s (no controlling terminal)", ename(e));
        ESCAPED("open /dev/tty: %s (unexpected)", ename(e));
    }
    char c = ' ';
    long rc = syscall(SYS_ioctl, (long)fd, (long)TIOCSTI, &c);
    judge_call("ioctl(/dev/tty, TIOCSTI)", rc, errno, ERR_TTY);
}

void attack_tiocsti_high_bits(void) {
    /* CVE-2019-10063: the kernel truncates cmd to 32 bits; a filter comparing 64 bits does not. */
    char why[160];
    int fd = some_tty(why, sizeof why);
    if (fd < 0) SKIPPED("%s", why);
    char c = ' ';
    long rc = syscall(SYS_ioctl, (long)fd, (long)((unsigned long)TIOCSTI | (1UL << 32)), &c);
    judge_call("ioctl(tty, TIOCSTI|1<<32)", rc, errno, ERR_TTY);
}

void attack_tioclinux(void) {
    static const char *const vts[] = {"/dev/tty0", "/dev/console", "/dev/tty1", NULL};
    static const int blocked[] = {EPERM, EACCES, ENOSYS, ENOTTY, EINVAL, EIO, 0};
    char sub[2] = {6 /* TIOCL_GETSHIFTSTATE: harmless read */, 0};
    int fd = isatty(0) ? 0 : -1;
    for (int i = 0; fd < 0 && vts[i]; ++i) fd = open(vts[i], O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) BLOCKED("no terminal and no VT (/dev/tty0, /dev/console, /dev/tty1) reachable");
    long rc = syscall(SYS_ioctl, (long)fd, (long)TIOCLINUX, sub);
    judge_call("ioctl(TIOCLINUX)", rc, errno, blocked);
}
