/* Resource exhaustion, each bounded: the probe never goes further than a little past the
 * policy's limit (given in argv), or a fixed cap when the caller knows of no limit, in
 * which case hitting the cap is SKIPPED ("no limit configured"), not a pass. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"

static long mono_sec(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

void attack_fork_bomb(void) {
    long limit = g_ctx->pids_limit;
    long cap = limit > 0 ? limit + 64 : 4096;
    long start = mono_sec();
    long n = 0;
    for (; n < cap; ++n) {
        if (mono_sec() - start > 30) break;
        pid_t pid = fork();
        if (pid == 0) {
            for (;;) pause(); /* the driver kills the whole process group */
        }
        if (pid < 0) {
            int e = errno;
            if (e == EAGAIN || e == ENOMEM)
                BLOCKED("fork failed with %s after %ld processes (pids limit %ld)", ename(e), n, limit);
            ESCAPED("undecided: fork: %s after %ld", ename(e), n);
        }
    }
    if (limit <= 0) SKIPPED("no pids limit configured: %ld forks succeeded (bounded at %ld)", n, cap);
    ESCAPED("%ld processes created, over the pids limit %ld", n, limit);
}

void attack_memory_exhaustion(void) {
    long limit = g_ctx->mem_limit_mb;
    long cap = limit > 0 ? limit + 64 : 1024;
    const size_t chunk = 16UL << 20;
    long mb = 0;
    while (mb < cap) {
        void *p = mmap(NULL, chunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) BLOCKED("mmap failed with %s after %ld MB (limit %ld MB)", ename(errno), mb, limit);
        for (size_t off = 0; off < chunk; off += 4096) ((volatile char *)p)[off] = 1;
        mb += 16;
    }
    if (limit <= 0) SKIPPED("no memory limit configured: touched %ld MB (bounded)", mb);
    ESCAPED("touched %ld MB, over the memory limit of %ld MB", mb, limit);
}

void attack_disk_tmp_fill(void) {
    signal(SIGXFSZ, SIG_IGN); /* RLIMIT_FSIZE shows up as EFBIG */
    long limit = g_ctx->tmp_limit_mb;
    long cap = limit > 0 ? limit + 16 : 256;
    char path[64];
    snprintf(path, sizeof path, "/tmp/aj-probe-fill-%d", (int)getpid());
    long fd = syscall(SYS_openat, AT_FDCWD, path, (long)(O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC), 0600L);
    if (fd < 0) {
        int e = errno;
        if (e == EROFS || e == EACCES || e == ENOENT || e == EPERM || e == ENOSPC)
            BLOCKED("cannot create %s: %s", path, ename(e));
        ESCAPED("undecided: create %s: %s", path, ename(e));
    }
    static char buf[1 << 20];
    memset(buf, 'x', sizeof buf);
    long mb = 0;
    for (; mb < cap; ++mb) {
        ssize_t w = write((int)fd, buf, sizeof buf);
        if (w < (ssize_t)sizeof buf) {
            int e = w < 0 ? errno : ENOSPC;
            unlink(path);
            if (e == ENOSPC || e == EFBIG || e == EDQUOT)
                BLOCKED("write stopped with %s after %ld MB (tmpfs limit %ld MB)", ename(e), mb, limit);
            ESCAPED("undecided: write: %s after %ld MB", ename(e), mb);
        }
    }
    unlink(path);
    if (limit <= 0) SKIPPED("no /tmp size limit configured: wrote %ld MB (bounded)", mb);
    ESCAPED("wrote %ld MB to /tmp, over the limit of %ld MB", mb, limit);
}

void attack_fd_exhaustion(void) {
    long limit = g_ctx->fd_limit;
    long cap = limit > 0 ? limit + 16 : 65536;
    struct rlimit rl = {0, 0};
    syscall(SYS_prlimit64, 0L, (long)RLIMIT_NOFILE, NULL, &rl);
    long n = 0;
    for (; n < cap; ++n) {
        if (syscall(SYS_dup, 2L) < 0) {
            int e = errno;
            if (e == EMFILE || e == ENFILE)
                BLOCKED("dup failed with %s after %ld new fds (RLIMIT_NOFILE %llu)", ename(e), n,
                        (unsigned long long)rl.rlim_cur);
            ESCAPED("undecided: dup: %s", ename(e));
        }
    }
    if (limit <= 0)
        ESCAPED("%ld fds opened without hitting any limit (RLIMIT_NOFILE %llu)", n,
                (unsigned long long)rl.rlim_cur);
    ESCAPED("%ld fds opened, over max_open_files %ld", n, limit);
}

void attack_cpu_rlimit(void) {
    struct rlimit rl = {0, 0};
    if (syscall(SYS_prlimit64, 0L, (long)RLIMIT_CPU, NULL, &rl) != 0)
        ESCAPED("undecided: prlimit64(RLIMIT_CPU): %s", ename(errno));
    long limit = g_ctx->cpu_limit_sec;
    if (rl.rlim_cur == RLIM_INFINITY) {
        if (limit <= 0) SKIPPED("no CPU limit configured and RLIMIT_CPU is unlimited");
        ESCAPED("RLIMIT_CPU is unlimited although max_cpu_sec is %ld", limit);
    }
    if (limit > 0 && rl.rlim_cur > (rlim_t)limit)
        ESCAPED("RLIMIT_CPU %llu s is above max_cpu_sec %ld", (unsigned long long)rl.rlim_cur, limit);
    BLOCKED("RLIMIT_CPU is %llu s (hard %llu)", (unsigned long long)rl.rlim_cur,
            (unsigned long long)rl.rlim_max);
}
