/* Attacks on other processes and on the process's own credentials: ptrace, signals,
 * /proc/<pid>/{root,cwd,exe} (runc CVE-2019-5736), namespaces and capabilities. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe.h"

static const int ERR_NS[] = {EPERM, EACCES, ENOSYS, ENOSPC, EUSERS, 0};

/* Is the host target visible here, as itself? Returns false with a reason when a process
 * with that number is absent or is another (sandbox) process. */
static bool host_target_visible(char *why, size_t len) {
    char path[64], comm[64] = "";
    snprintf(path, sizeof path, "/proc/%ld/comm", g_ctx->host_pid);
    FILE *f = fopen(path, "re");
    if (!f) {
        snprintf(why, len, "%s: %s", path, ename(errno));
        return true; /* cannot tell: let the syscall decide */
    }
    if (fgets(comm, sizeof comm, f)) comm[strcspn(comm, "\n")] = '\0';
    fclose(f);
    if (g_ctx->host_comm && strcmp(comm, g_ctx->host_comm) != 0) {
        snprintf(why, len, "pid %ld here is '%s', not the host target '%s'", g_ctx->host_pid, comm,
                 g_ctx->host_comm);
        return false;
    }
    snprintf(why, len, "pid %ld is visible as '%s'", g_ctx->host_pid, comm);
    return true;
}

static void ptrace_seize(long pid, const char *what) {
    /* PTRACE_SEIZE does the same access check as PTRACE_ATTACH without stopping the target. */
    long rc = syscall(SYS_ptrace, PTRACE_SEIZE, pid, 0L, 0L);
    int e = errno;
    if (rc == 0) {
        syscall(SYS_ptrace, PTRACE_DETACH, pid, 0L, 0L);
        ESCAPED("ptrace(PTRACE_SEIZE) of %s pid %ld succeeded", what, pid);
    }
    static const int blocked[] = {EPERM, EACCES, ESRCH, ENOSYS, 0};
    judge_call("ptrace(PTRACE_SEIZE)", rc, e, blocked);
}

void attack_ptrace_host_pid(void) {
    if (g_ctx->host_pid <= 0) SKIPPED("no host_pid= given");
    char why[200];
    if (!host_target_visible(why, sizeof why)) BLOCKED("%s", why);
    ptrace_seize(g_ctx->host_pid, "host");
}

void attack_ptrace_pid1(void) {
    if (getpid() == 1) SKIPPED("the probe is PID 1 itself");
    ptrace_seize(1, "PID 1");
}

void attack_process_vm_readv_pid1(void) {
    if (getpid() == 1) SKIPPED("the probe is PID 1 itself");
    unsigned long addr = 0x400000;
    FILE *f = fopen("/proc/1/maps", "re");
    if (f) {
        if (fscanf(f, "%lx", &addr) != 1) addr = 0x400000;
        fclose(f);
    }
    char buf[16];
    struct iovec local = {buf, sizeof buf}, remote = {(void *)addr, sizeof buf};
    long rc = syscall(SYS_process_vm_readv, 1L, &local, 1L, &remote, 1L, 0L);
    static const int blocked[] = {EPERM, EACCES, ESRCH, ENOSYS, 0};
    judge_call("process_vm_readv(pid 1)", rc, errno, blocked);
}

void attack_kill_host_pid(void) {
    if (g_ctx->host_pid <= 0) SKIPPED("no host_pid= given");
    char why[200];
    if (!host_target_visible(why, sizeof why)) BLOCKED("%s", why);
    /* Signal 0: the permission check without delivering anything. */
    long rc = syscall(SYS_kill, g_ctx->host_pid, 0L);
    int e = errno;
    if (rc == 0) ESCAPED("kill(%ld, 0) allowed: may signal the host process (%s)", g_ctx->host_pid, why);
    static const int blocked[] = {EPERM, ESRCH, ENOSYS, 0};
    judge_call("kill(host pid, 0)", rc, e, blocked);
}

static bool is_pid_dir(const char *name) {
    if (!*name) return false;
    for (const char *p = name; *p; ++p)
        if (*p < '0' || *p > '9') return false;
    return true;
}

void attack_proc_pid_root_cwd(void) {
    DIR *d = opendir("/proc");
    if (!d) BLOCKED("/proc not readable: %s", ename(errno));
    int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    int seen = 0, opened = 0;
    for (struct dirent *de; (de = readdir(d));) {
        if (!is_pid_dir(de->d_name) || atol(de->d_name) == getpid()) continue;
        ++seen;
        char path[64], where[120] = "";
        snprintf(path, sizeof path, "/proc/%ld/root", atol(de->d_name));
        int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
            ++opened;
            if (!same_file(fd, root)) ESCAPED("%s is a different root than ours", path);
            close(fd);
        }
        snprintf(path, sizeof path, "/proc/%ld/cwd", atol(de->d_name));
        fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
            if (!walk_reaches_our_root(fd, where, sizeof where))
                ESCAPED("%s leads outside our root: %s", path, where);
            close(fd);
        }
    }
    BLOCKED("%d other pids visible, %d roots openable, all equal to ours", seen, opened);
}

void attack_supervisor_exe_write(void) {
    /* runc CVE-2019-5736: the supervisor's binary reached through /proc/<pid>/exe. */
    DIR *d = opendir("/proc");
    if (!d) BLOCKED("/proc not readable: %s", ename(errno));
    char detail[400] = "";
    size_t off = 0;
    for (struct dirent *de; (de = readdir(d));) {
        if (!is_pid_dir(de->d_name) || atol(de->d_name) == getpid()) continue;
        char path[64], target[160] = "?";
        snprintf(path, sizeof path, "/proc/%ld/exe", atol(de->d_name));
        ssize_t l = readlink(path, target, sizeof target - 1);
        if (l > 0) target[l] = '\0';
        long fd = syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CLOEXEC, 0);
        int e = errno;
        if (fd >= 0) ESCAPED("opened %s (%s) for writing", path, target);
        if (e == ETXTBSY) {
            /* The write-permission check passed; only the running image holds it. A racing
             * attacker wins once it exits, unless the mount itself is read-only. */
            int pfd = open(path, O_PATH | O_CLOEXEC);
            struct statvfs vfs;
            if (pfd < 0 || fstatvfs(pfd, &vfs) != 0 || !(vfs.f_flag & ST_RDONLY))
                ESCAPED("%s (%s): ETXTBSY, i.e. writable once the process exits", path, target);
        } else if (e != EACCES && e != EPERM && e != ENOENT && e != EROFS && e != ESRCH) {
            ESCAPED("open %s O_WRONLY: %s (unexpected)", path, ename(e));
        }
        if (off < sizeof detail - 1)
            off += (size_t)snprintf(detail + off, sizeof detail - off, "%s(%s):%s ", path, target,
                                    ename(e));
    }
    BLOCKED("%s", off ? detail : "no other process visible");
}

static void exit_child_now(void) { syscall(SYS_exit_group, 0); }

void attack_unshare_user(void) {
    long rc = syscall(SYS_unshare, (long)CLONE_NEWUSER);
    int e = errno;
    if (rc == 0) ESCAPED("unshare(CLONE_NEWUSER) succeeded: full capabilities in a new user ns");
    judge_call("unshare(CLONE_NEWUSER)", rc, e, ERR_NS);
}

void attack_clone_newuser(void) {
    long pid = syscall(SYS_clone, (long)(CLONE_NEWUSER | SIGCHLD), 0L, 0L, 0L, 0L);
    if (pid == 0) exit_child_now();
    int e = errno;
    if (pid > 0) {
        waitpid((pid_t)pid, NULL, 0);
        ESCAPED("clone(CLONE_NEWUSER) created pid %ld in a new user ns", pid);
    }
    judge_call("clone(CLONE_NEWUSER)", pid, e, ERR_NS);
}

void attack_clone3_namespaces(void) {
    /* Flatpak CVE-2021-41133: clone3 passes a filter that only inspects clone's flags. */
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET;
    args.exit_signal = SIGCHLD;
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) exit_child_now();
    int e = errno;
    if (pid > 0) {
        waitpid((pid_t)pid, NULL, 0);
        ESCAPED("clone3 with namespace flags created pid %ld", pid);
    }
    judge_call("clone3(NEWUSER|NEWNS|NEWPID|NEWNET)", pid, e, ERR_NS);
}

void attack_unshare_other_ns(void) {
    static const struct {
        long flag;
        const char *name;
    } ns[] = {{CLONE_NEWNS, "mnt"},   {CLONE_NEWNET, "net"}, {CLONE_NEWUTS, "uts"},
              {CLONE_NEWIPC, "ipc"},  {CLONE_NEWPID, "pid"}, {CLONE_NEWCGROUP, "cgroup"},
              {0x00000080, "time"}};
    char detail[300] = "";
    size_t off = 0;
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; ++i) {
        long rc = syscall(SYS_unshare, ns[i].flag);
        int e = errno;
        if (rc == 0) ESCAPED("unshare(%s namespace) succeeded", ns[i].name);
        bool ok = false;
        for (const int *b = ERR_NS; *b; ++b) ok |= *b == e;
        if (!ok && e != EINVAL) ESCAPED("unshare(%s): %s (privilege check passed)", ns[i].name, ename(e));
        off += (size_t)snprintf(detail + off, sizeof detail - off, "%s:%s ", ns[i].name, ename(e));
    }
    BLOCKED("%s", detail);
}

void attack_setns_pid1(void) {
    static const char *const ns[] = {"user", "mnt", "net", "pid", "uts", "ipc", "cgroup", "time", NULL};
    char detail[300] = "";
    size_t off = 0;
    for (int i = 0; ns[i]; ++i) {
        char path[64];
        snprintf(path, sizeof path, "/proc/1/ns/%s", ns[i]);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            off += (size_t)snprintf(detail + off, sizeof detail - off, "%s:open %s ", ns[i], ename(errno));
            continue;
        }
        long rc = syscall(SYS_setns, (long)fd, 0L);
        int e = errno;
        if (rc == 0) ESCAPED("setns(%s) succeeded", path);
        if (e != EPERM && e != EINVAL && e != ENOSYS && e != EACCES)
            ESCAPED("setns(%s): %s (unexpected)", path, ename(e));
        off += (size_t)snprintf(detail + off, sizeof detail - off, "%s:%s ", ns[i], ename(e));
        close(fd);
    }
    BLOCKED("%s", detail);
}

void attack_capabilities_empty(void) {
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capget, &hdr, data) != 0) ESCAPED("undecided: capget: %s", ename(errno));
    uint64_t eff = data[0].effective | (uint64_t)data[1].effective << 32;
    uint64_t prm = data[0].permitted | (uint64_t)data[1].permitted << 32;
    uint64_t inh = data[0].inheritable | (uint64_t)data[1].inheritable << 32;
    uint64_t bnd = 0, amb = 0;
    for (int c = 0; c < 64; ++c) {
        long b = prctl(PR_CAPBSET_READ, c, 0, 0, 0);
        if (b < 0) break;
        if (b == 1) bnd |= 1ULL << c;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0) == 1) amb |= 1ULL << c;
    }
    if (eff | prm | inh | bnd | amb)
        ESCAPED("capabilities left: eff=%#llx prm=%#llx inh=%#llx bnd=%#llx amb=%#llx",
                (unsigned long long)eff, (unsigned long long)prm, (unsigned long long)inh,
                (unsigned long long)bnd, (unsigned long long)amb);
    BLOCKED("all capability sets empty (effective, permitted, inheritable, bounding, ambient)");
}

void attack_setuid_root(void) {
    if (getuid() == 0 || geteuid() == 0) ESCAPED("already uid 0 inside (uid %u euid %u)", getuid(), geteuid());
    long rc = syscall(SYS_setuid, 0L);
    int e = errno;
    if (rc == 0 && geteuid() == 0) ESCAPED("setuid(0) succeeded");
    static const int blocked[] = {EPERM, EINVAL, ENOSYS, 0};
    judge_call("setuid(0)", rc, e, blocked);
}

void attack_setgid_root(void) {
    if (getgid() == 0 || getegid() == 0) ESCAPED("already gid 0 inside (gid %u egid %u)", getgid(), getegid());
    long rc = syscall(SYS_setgid, 0L);
    int e = errno;
    if (rc == 0 && getegid() == 0) ESCAPED("setgid(0) succeeded");
    static const int blocked[] = {EPERM, EINVAL, ENOSYS, 0};
    judge_call("setgid(0)", rc, e, blocked);
}

void attack_no_new_privs(void) {
    long v = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
    if (v == 1) BLOCKED("PR_GET_NO_NEW_PRIVS = 1");
    ESCAPED("no_new_privs is not set (PR_GET_NO_NEW_PRIVS = %ld)", v);
}

extern char **environ;

void attack_environment_secret(void) {
    if (!g_ctx->env_name) SKIPPED("no env_name= given");
    size_t n = strlen(g_ctx->env_name);
    int vars = 0;
    for (char **e = environ; *e; ++e) {
        ++vars;
        if (!strncmp(*e, g_ctx->env_name, n) && (*e)[n] == '=')
            ESCAPED("the launcher's variable %s reached the sandbox", g_ctx->env_name);
        if (g_ctx->env_value && *g_ctx->env_value && strstr(*e, g_ctx->env_value))
            ESCAPED("the secret value reached the sandbox inside '%.40s...'", *e);
    }
    BLOCKED("%s absent (%d variables in the environment)", g_ctx->env_name, vars);
}

/* PID 1 is cloned from the runner without an exec: unless it hides them, /proc/1/cmdline
 * shows the runner's host command line (host paths, request and policy names) and
 * /proc/1/environ its environment. */
void attack_pid1_cmdline(void) {
    char buf[4096];
    int fd = open("/proc/1/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0) BLOCKED("/proc/1/cmdline: %s", ename(errno));
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0) BLOCKED("reading /proc/1/cmdline: %s", ename(errno));
    buf[n] = '\0';
    for (ssize_t i = 0; i < n; ++i)
        if (buf[i] == '/') ESCAPED("/proc/1/cmdline holds a path: '%.80s'", buf);
    if (g_ctx->secret_path && memmem(buf, (size_t)n, "secret=", 7))
        ESCAPED("/proc/1/cmdline holds the launcher's arguments: '%.80s'", buf);
    BLOCKED("/proc/1/cmdline is '%s' (%zd bytes)", buf, n);
}

void attack_pid1_environ(void) {
    char buf[8192];
    int fd = open("/proc/1/environ", O_RDONLY | O_CLOEXEC);
    if (fd < 0) BLOCKED("/proc/1/environ: %s", ename(errno));
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    if (n < 0) BLOCKED("reading /proc/1/environ: %s", ename(errno));
    for (ssize_t i = 0; i < n; ++i)
        if (buf[i] != '\0') ESCAPED("/proc/1/environ shows the runner's environment ('%.60s')", buf + i);
    if (g_ctx->env_value && n > 0 && memmem(buf, (size_t)n, g_ctx->env_value, strlen(g_ctx->env_value)))
        ESCAPED("/proc/1/environ holds the launcher's secret");
    BLOCKED("/proc/1/environ readable but empty (%zd zero bytes)", n);
}
