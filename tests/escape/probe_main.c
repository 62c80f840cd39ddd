/* The probe's driver: parses key=value arguments, records what the launcher left open,
 * then runs every attack of attacks.def in its own process group with a deadline and
 * prints one line per attack. See probe.h for the verdict rule. */
#include <dirent.h>
#include <linux/capability.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"

const struct probe_ctx *g_ctx;
static int g_verdict_fd = -1;

const int ERR_DENIED[] = {EPERM, EACCES, ENOSYS, 0};
const int ERR_NOFILE[] = {ENOENT, EACCES, EPERM, ENOTDIR, ENXIO, ENODEV, EROFS, ELOOP, 0};

const char *ename(int err) {
    const char *n = strerrorname_np(err);
    return n ? n : "E?";
}

void verdict(enum verdict_kind kind, const char *fmt, ...) {
    static const char *const names[] = {"BLOCKED", "ESCAPED", "SKIPPED"};
    char detail[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    for (char *p = detail; *p; ++p)
        if (*p == '\n' || *p == '\r' || (unsigned char)*p < 0x20) *p = ' ';
    char line[800];
    int n = snprintf(line, sizeof line, "%s %s\n", names[kind], detail);
    if (n > (int)sizeof line - 1) n = (int)sizeof line - 1;
    if (g_verdict_fd >= 0) {
        ssize_t w;
        do {
            w = write(g_verdict_fd, line, (size_t)n);
        } while (w < 0 && errno == EINTR);
    }
    syscall(SYS_exit_group, 0);
    __builtin_unreachable();
}

void judge_call(const char *what, long rc, int err, const int *blocked) {
    if (rc >= 0) ESCAPED("%s succeeded (rc=%ld)", what, rc);
    for (const int *b = blocked; *b; ++b)
        if (*b == err) BLOCKED("%s: %s", what, ename(err));
    ESCAPED("%s: %s (the privilege check was passed)", what, ename(err));
}

long arg_or(long v, long dflt) { return v >= 0 ? v : dflt; }

bool same_file(int fd_a, int fd_b) {
    struct stat a, b;
    if (fstat(fd_a, &a) != 0 || fstat(fd_b, &b) != 0) return false;
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

bool walk_reaches_our_root(int dirfd, char *where, size_t where_len) {
    int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    int cur = dup(dirfd);
    bool ok = false;
    for (int i = 0; i < 256 && cur >= 0; ++i) {
        if (root >= 0 && same_file(cur, root)) {
            ok = true;
            break;
        }
        int up = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (up < 0) break;
        bool stuck = same_file(up, cur); /* ".." of a root is itself */
        close(cur);
        cur = up;
        if (stuck) break;
    }
    if (!ok && where && cur >= 0) {
        struct stat st;
        if (fstat(cur, &st) == 0)
            snprintf(where, where_len, "walk ended at dev=%lu ino=%lu, not our /",
                     (unsigned long)st.st_dev, (unsigned long)st.st_ino);
    }
    if (cur >= 0) close(cur);
    if (root >= 0) close(root);
    return ok;
}

struct attack {
    const char *name;
    void (*fn)(void);
    unsigned timeout_sec;
};

#define AJ_ATTACK(name, timeout, modes) {#name, attack_##name, timeout},
static const struct attack kAttacks[] = {
#include "attacks.def"
};
#undef AJ_ATTACK

static long parse_long(const char *s) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s) {
        fprintf(stderr, "probe: bad number '%s'\n", s);
        exit(2);
    }
    return v;
}

static void parse_args(struct probe_ctx *c, int argc, char **argv, const char **only) {
    c->host_pid = c->tcp_port = c->caller_tty = -1;
    c->mem_limit_mb = c->tmp_limit_mb = c->fd_limit = c->pids_limit = c->cpu_limit_sec = -1;
    for (int i = 1; i < argc; ++i) {
        char *eq = strchr(argv[i], '=');
        if (!eq) {
            fprintf(stderr, "probe: expected key=value, got '%s'\n", argv[i]);
            exit(2);
        }
        *eq = '\0';
        const char *k = argv[i], *v = eq + 1;
        if (!strcmp(k, "host_pid")) c->host_pid = parse_long(v);
        else if (!strcmp(k, "host_comm")) c->host_comm = v;
        else if (!strcmp(k, "secret")) c->secret_path = v;
        else if (!strcmp(k, "tcp_port")) c->tcp_port = parse_long(v);
        else if (!strcmp(k, "unix_abstract")) c->unix_name = v;
        else if (!strcmp(k, "env_name")) c->env_name = v;
        else if (!strcmp(k, "env_value")) c->env_value = v;
        else if (!strcmp(k, "host_hostname")) c->host_hostname = v;
        else if (!strcmp(k, "host_domainname")) c->host_domainname = v;
        else if (!strcmp(k, "suid_copy")) c->suid_copy = v;
        else if (!strcmp(k, "mem_mb")) c->mem_limit_mb = parse_long(v);
        else if (!strcmp(k, "tmp_mb")) c->tmp_limit_mb = parse_long(v);
        else if (!strcmp(k, "open_files")) c->fd_limit = parse_long(v);
        else if (!strcmp(k, "pids")) c->pids_limit = parse_long(v);
        else if (!strcmp(k, "cpu_sec")) c->cpu_limit_sec = parse_long(v);
        else if (!strcmp(k, "nobody_file")) c->nobody_file = v;
        else if (!strcmp(k, "neighbour_file")) c->neighbour_file = v;
        else if (!strcmp(k, "quota_dir")) c->quota_dir = v;
        else if (!strcmp(k, "caller_tty")) c->caller_tty = parse_long(v);
        else if (!strcmp(k, "proc_submount")) c->proc_submount = v;
        else if (!strcmp(k, "only")) *only = v;
        else {
            fprintf(stderr, "probe: unknown key '%s'\n", k);
            exit(2);
        }
    }
}

/* Startup snapshot: must run before the probe opens anything. */
static void snapshot_launcher_state(struct probe_ctx *c) {
    for (int fd = 3; fd < AJ_MAX_FDS; ++fd) c->fd_open[fd] = fcntl(fd, F_GETFD) != -1;
    if (syscall(SYS_getcwd, c->cwd_at_start, sizeof c->cwd_at_start) < 0) {
        c->cwd_errno = errno;
        c->cwd_at_start[0] = '\0';
    }
}

static bool selected(const char *only, const char *name) {
    if (!only) return true;
    size_t n = strlen(name);
    for (const char *p = only; (p = strstr(p, name)); p += n)
        if ((p == only || p[-1] == ',') && (p[n] == ',' || p[n] == '\0')) return true;
    return false;
}

static long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A memory limit enforced by a cgroup shows up as the OOM killer's SIGKILL, not as a
 * failed allocation: for the memory attack (and only there) that death is the block. */
static bool killed_by_limit(const struct attack *a, int sig) {
    return sig == SIGKILL && !strcmp(a->name, "memory_exhaustion");
}

/* Reaps everything we adopted as subreaper (fork-bomb leftovers). */
static void reap_orphans(void) {
    while (waitpid(-1, NULL, WNOHANG) > 0) {}
}

/* Runs one attack in a fresh process group; returns 0/1/2 for blocked/escaped/skipped. */
static int run_attack(const struct attack *a) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        printf("ATTACK %s ESCAPED undecided: probe pipe failed: %s\n", a->name, ename(errno));
        return V_ESCAPED;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        printf("ATTACK %s ESCAPED undecided: probe fork failed: %s\n", a->name, ename(e));
        return V_ESCAPED;
    }
    if (pid == 0) {
        close(p[0]);
        g_verdict_fd = p[1];
        setpgid(0, 0);
        signal(SIGPIPE, SIG_IGN);
        alarm(a->timeout_sec * AJ_ATTACK_SLOWNESS);
        a->fn();
        ESCAPED("undecided: probe bug, attack returned without a verdict");
    }
    close(p[1]);
    setpgid(pid, pid);
    char buf[1024];
    size_t len = 0;
    long deadline = now_ms() + (long)a->timeout_sec * AJ_ATTACK_SLOWNESS * 1000 + 3000;
    bool timed_out = false;
    for (;;) {
        long left = deadline - now_ms();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        struct pollfd pfd = {p[0], POLLIN, 0};
        int n = poll(&pfd, 1, (int)left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) continue;
        ssize_t r = read(p[0], buf + len, sizeof buf - 1 - len);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        len += (size_t)r;
        /* One line is the whole verdict; do not wait for EOF, which never comes while
         * a fork bomb's children still hold the pipe. */
        if (memchr(buf, '\n', len) || len == sizeof buf - 1) break;
    }
    close(p[0]);
    /* The whole group goes: a fork bomb's children too. */
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    reap_orphans();
    buf[len] = '\0';
    char *nl = strchr(buf, '\n');
    if (nl) *nl = '\0';
    int kind;
    if (len > 0) {
        kind = !strncmp(buf, "BLOCKED", 7) ? V_BLOCKED : !strncmp(buf, "SKIPPED", 7) ? V_SKIPPED
                                                                                     : V_ESCAPED;
        printf("ATTACK %s %s\n", a->name, buf);
    } else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) {
        kind = V_BLOCKED;
        printf("ATTACK %s BLOCKED killed by SIGSYS (seccomp kill)\n", a->name);
    } else if (!timed_out && WIFSIGNALED(status) && killed_by_limit(a, WTERMSIG(status))) {
        kind = V_BLOCKED;
        printf("ATTACK %s BLOCKED killed by SIGKILL while allocating (OOM killer: the memory limit held)\n",
               a->name);
    } else if (timed_out) {
        kind = V_ESCAPED;
        printf("ATTACK %s ESCAPED undecided: no verdict within %us\n", a->name,
               a->timeout_sec * AJ_ATTACK_SLOWNESS + 3);
    } else if (WIFSIGNALED(status)) {
        kind = V_ESCAPED;
        printf("ATTACK %s ESCAPED undecided: attack process killed by %s\n", a->name,
               sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) : "?");
    } else {
        kind = V_ESCAPED;
        printf("ATTACK %s ESCAPED undecided: attack process exited %d without a verdict\n",
               a->name, WEXITSTATUS(status));
    }
    fflush(stdout);
    return kind;
}

/* Mode used by the setuid_copy_exec attack: print the ids this exec got. */
static int print_ids(void) {
    uid_t r, e, s;
    gid_t rg, eg, sg;
    getresuid(&r, &e, &s);
    getresgid(&rg, &eg, &sg);
    printf("ids %u %u %u %u %u %u\n", r, e, s, rg, eg, sg);
    return 0;
}

/* Several attacks would change the host if they succeeded (umount /proc, mount over /tmp).
 * Refuse to run with CAP_SYS_ADMIN in the initial user namespace: that is not a sandbox. */
static bool privileged_on_host(void) {
    char map[128] = "";
    FILE *f = fopen("/proc/self/uid_map", "re");
    if (f) {
        if (!fgets(map, sizeof map, f)) map[0] = '\0';
        fclose(f);
    }
    unsigned a, b;
    unsigned long c;
    bool initial_ns = sscanf(map, "%u %u %lu", &a, &b, &c) == 3 && a == 0 && b == 0 && c == 4294967295UL;
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    bool sys_admin = syscall(SYS_capget, &hdr, data) != 0 || (data[0].effective & (1U << 21));
    return initial_ns && sys_admin;
}

int main(int argc, char **argv) {
    static struct probe_ctx ctx;
    snapshot_launcher_state(&ctx);
    if (argc == 2 && !strcmp(argv[1], "--print-ids")) return print_ids();
    /* Used by the host-state tests: plant LINK -> TARGET where the runner may look later. */
    if (argc == 4 && !strcmp(argv[1], "--plant-symlink")) {
        if (syscall(SYS_symlinkat, argv[3], AT_FDCWD, argv[2]) != 0) {
            printf("plant %s -> %s failed: %s\n", argv[2], argv[3], ename(errno));
            return 1;
        }
        printf("planted %s -> %s\n", argv[2], argv[3]);
        return 0;
    }
    if (argc == 2 && !strcmp(argv[1], "--list")) {
        for (size_t i = 0; i < sizeof kAttacks / sizeof kAttacks[0]; ++i) puts(kAttacks[i].name);
        return 0;
    }
    const char *only = NULL;
    parse_args(&ctx, argc, argv, &only);
    if (privileged_on_host()) {
        fprintf(stderr, "probe: refusing to run: CAP_SYS_ADMIN in the initial user namespace "
                        "(run me inside a sandbox)\n");
        return 3;
    }
    g_ctx = &ctx;
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* Adopt fork-bomb orphans so they can be reaped here, not left to PID 1. */
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    int counts[3] = {0, 0, 0};
    for (size_t i = 0; i < sizeof kAttacks / sizeof kAttacks[0]; ++i) {
        if (!selected(only, kAttacks[i].name)) continue;
        counts[run_attack(&kAttacks[i])]++;
    }
    printf("SUMMARY escaped=%d blocked=%d skipped=%d\n", counts[V_ESCAPED], counts[V_BLOCKED],
           counts[V_SKIPPED]);
    return counts[V_ESCAPED] ? 1 : 0;
}
