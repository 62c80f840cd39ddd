/* Attacks on the host boundary (issue 11): another tenant's files and processes, the
 * caller's per-user kernel quotas, the caller's terminal and open files, and a procfs
 * mounted below a granted tree. Each needs a host-side counterpart the harness sets up
 * (a neighbour sandbox, a nobody-owned file, a terminal, a log file, a quota watcher, a
 * submount) and passes in as key=value; without it the attack is SKIPPED with the reason. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"

/* ---- another tenant's files (item 2) ------------------------------------------------ */

static void read_foreign_file(const char *path, const char *whose) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        char buf[64];
        ssize_t n = read(fd, buf, sizeof buf);
        ESCAPED("read %zd bytes of %s's 0600 file %s", n, whose, path);
    }
    judge_call("open(another tenant's 0600 file)", -1, errno, ERR_NOFILE);
}

void attack_nobody_daemon_file(void) {
    if (!g_ctx->nobody_file)
        SKIPPED("no nobody_file= given (an ordinary caller's sandbox is the caller: its files are its own)");
    read_foreign_file(g_ctx->nobody_file, "a uid-65534 daemon");
}

void attack_neighbour_sandbox_file(void) {
    if (!g_ctx->neighbour_file)
        SKIPPED("no neighbour_file= given (an ordinary caller's sandboxes are all the caller)");
    read_foreign_file(g_ctx->neighbour_file, "another live sandbox");
}

/* ---- the caller's per-user quotas (item 3) ------------------------------------------ */

/* Takes every inotify instance the sandbox may have, then asks the harness (a file in the
 * work directory, answered by a host thread) whether the caller can still create one. */
void attack_caller_inotify_quota(void) {
    if (!g_ctx->quota_dir)
        SKIPPED("no quota_dir= given (an ordinary caller's sandbox is charged to the caller by design)");
    int held = 0, err = 0;
    for (; held < 100000; ++held) {
        if (inotify_init1(IN_CLOEXEC) < 0) {
            err = errno;
            break;
        }
    }
    char path[600], answer[600], tmp[600];
    snprintf(path, sizeof path, "%s/holding", g_ctx->quota_dir);
    snprintf(tmp, sizeof tmp, "%s/.holding", g_ctx->quota_dir);
    snprintf(answer, sizeof answer, "%s/host-answer", g_ctx->quota_dir);
    FILE *f = fopen(tmp, "we");
    if (!f) SKIPPED("cannot ask the harness: %s: %s", tmp, ename(errno));
    fprintf(f, "%d\n", held);
    fclose(f);
    if (rename(tmp, path) != 0) SKIPPED("cannot ask the harness: rename: %s", ename(errno));
    for (int i = 0; i < 500; ++i) { /* 10 s */
        char reply[64] = "";
        FILE *a = fopen(answer, "re");
        if (a) {
            if (!fgets(reply, sizeof reply, a)) reply[0] = '\0';
            fclose(a);
            reply[strcspn(reply, "\n")] = '\0';
            if (reply[0] == '\0') continue;
            if (!strcmp(reply, "ok"))
                BLOCKED("holding %d instances (then %s), the caller could still create one", held, ename(err));
            ESCAPED("holding %d inotify instances, the caller's own inotify_init1 failed: %s", held, reply);
        }
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    SKIPPED("the harness did not answer within 10 s");
}

/* ---- the caller's terminal and files (item 4) --------------------------------------- */

/* Truncating and growing fd 2 reach the caller's file only if the sandbox holds the
 * caller's open file description (a `2>> log`); a relay's pipe refuses both. */
void attack_caller_file_truncate(void) {
    struct stat st;
    if (fstat(2, &st) != 0) BLOCKED("fd 2 is not open: %s", ename(errno));
    long rc = syscall(SYS_ftruncate, 2L, 0L);
    int e = errno;
    if (rc == 0) ESCAPED("ftruncate(2, 0) succeeded on a %s file of %lld bytes", S_ISREG(st.st_mode) ? "regular" : "non-regular",
                         (long long)st.st_size);
    static const int blocked[] = {EINVAL, EBADF, EPERM, EACCES, EROFS, 0};
    judge_call("ftruncate(fd 2, 0)", rc, e, blocked);
}

void attack_caller_file_fallocate(void) {
    long rc = syscall(SYS_fallocate, 2L, 0L, 0L, (long)(1 << 20));
    int e = errno;
    static const int blocked[] = {ESPIPE, ENODEV, EOPNOTSUPP, EBADF, EPERM, EACCES, EINVAL, 0};
    judge_call("fallocate(fd 2, 1 MiB)", rc, e, blocked);
}

/* TIOCEXCL, a line discipline change and a termios change on every terminal the sandbox
 * holds. On the sandbox's own (relayed) terminal they are harmless and undone; on the
 * caller's terminal (caller_tty= its device number) any of them succeeding is an escape. */
void attack_caller_tty_state(void) {
    if (g_ctx->caller_tty <= 0) SKIPPED("no caller_tty= given");
    /* The attack runs in a process group of its own, in the background of any terminal:
     * the changes must not stop it (SIGTTOU), only succeed or fail. */
    signal(SIGTTOU, SIG_IGN);
    int fds[4] = {0, 1, 2, -1};
    fds[3] = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    int own = 0;
    for (int i = 0; i < 4; ++i) {
        struct stat st;
        if (fds[i] < 0 || !isatty(fds[i]) || fstat(fds[i], &st) != 0) continue;
        const bool callers = (long)st.st_rdev == g_ctx->caller_tty;
        struct termios before, changed;
        int ldisc = 0, n_null = 27 /* N_NULL */;
        const bool have_termios = tcgetattr(fds[i], &before) == 0;
        ioctl(fds[i], TIOCGETD, &ldisc);
        const char *done = NULL;
        if (syscall(SYS_ioctl, (long)fds[i], (long)TIOCEXCL, 0L) == 0) done = "TIOCEXCL";
        else if (syscall(SYS_ioctl, (long)fds[i], (long)TIOCSETD, &n_null) == 0) done = "TIOCSETD N_NULL";
        else if (have_termios) {
            changed = before;
            changed.c_lflag &= ~(tcflag_t)(ECHO | ICANON);
            if (tcsetattr(fds[i], TCSANOW, &changed) == 0) done = "tcsetattr -echo -icanon";
        }
        /* Undone either way, so that the other attacks see the terminal as it was. */
        syscall(SYS_ioctl, (long)fds[i], (long)TIOCNXCL, 0L);
        syscall(SYS_ioctl, (long)fds[i], (long)TIOCSETD, &ldisc);
        if (have_termios) tcsetattr(fds[i], TCSANOW, &before);
        if (done && callers) ESCAPED("%s on fd %d, the caller's own terminal", done, i < 3 ? i : fds[3]);
        if (done) ++own;
    }
    if (own == 0) BLOCKED("no terminal the sandbox holds accepted TIOCEXCL, TIOCSETD or tcsetattr");
    BLOCKED("only the sandbox's own terminal took the changes (%d fds), never the caller's", own);
}

/* ---- a procfs below a granted tree (item 6) ----------------------------------------- */

void attack_granted_procfs_submount(void) {
    if (!g_ctx->proc_submount) SKIPPED("no proc_submount= given (mounting one needs root: the harness's own namespace)");
    struct statfs sf;
    if (statfs(g_ctx->proc_submount, &sf) != 0) BLOCKED("statfs %s: %s", g_ctx->proc_submount, ename(errno));
    char path[600];
    snprintf(path, sizeof path, "%s/cmdline", g_ctx->proc_submount);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        char buf[128] = "";
        ssize_t n = read(fd, buf, sizeof buf - 1);
        ESCAPED("read the host kernel's command line through %s (%zd bytes)", path, n);
    }
    int e = errno;
    if (sf.f_type == PROC_SUPER_MAGIC) ESCAPED("%s is a procfs (%s: %s)", g_ctx->proc_submount, path, ename(e));
    judge_call("open(granted tree's proc/cmdline)", -1, e, ERR_NOFILE);
}
