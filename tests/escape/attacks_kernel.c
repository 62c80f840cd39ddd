/* Attacks on the kernel's privileged and rarely-needed interfaces, and on the other x86
 * ABIs (int 0x80 with i386 numbers, x32 numbers) that a filter written for x86_64 numbers
 * would miss. Every call is built so that, if it is allowed, it changes nothing on the
 * host: bogus arguments that fail only after the privilege check, values written back
 * unchanged, names that do not exist. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/quota.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"

#define AJ_KEY_SPEC_PROCESS_KEYRING (-2)
#define AJ_KEYCTL_JOIN_SESSION_KEYRING 1
#define AJ_KEYCTL_INVALIDATE 21
#define AJ_UFFD_USER_MODE_ONLY 1
#define AJ_X32_SYSCALL_BIT 0x40000000L

void attack_keyctl_join_session(void) {
    long rc = syscall(SYS_keyctl, AJ_KEYCTL_JOIN_SESSION_KEYRING, "aj-probe");
    judge_call("keyctl(JOIN_SESSION_KEYRING)", rc, errno, ERR_DENIED);
}

void attack_add_key(void) {
    long id = syscall(SYS_add_key, "user", "aj-probe", "x", 1L, (long)AJ_KEY_SPEC_PROCESS_KEYRING);
    int e = errno;
    if (id >= 0) {
        syscall(SYS_keyctl, AJ_KEYCTL_INVALIDATE, id);
        ESCAPED("add_key created key %ld", id);
    }
    judge_call("add_key", id, e, ERR_DENIED);
}

void attack_request_key(void) {
    long rc = syscall(SYS_request_key, "user", "aj-probe-absent", NULL, 0L);
    judge_call("request_key", rc, errno, ERR_DENIED);
}

void attack_bpf_prog_load(void) {
    struct bpf_insn prog[2];
    memset(prog, 0, sizeof prog);
    prog[0].code = BPF_ALU64 | BPF_MOV | BPF_K; /* r0 = 0 */
    prog[1].code = BPF_JMP | BPF_EXIT;
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
    attr.insns = (uint64_t)(uintptr_t)prog;
    attr.insn_cnt = 2;
    attr.license = (uint64_t)(uintptr_t)"GPL";
    long fd = syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
    judge_call("bpf(BPF_PROG_LOAD socket filter)", fd, errno, ERR_DENIED);
}

void attack_perf_event_open(void) {
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.type = PERF_TYPE_SOFTWARE;
    attr.size = sizeof attr;
    attr.config = PERF_COUNT_SW_TASK_CLOCK;
    attr.disabled = 1;
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    long fd = syscall(SYS_perf_event_open, &attr, 0L, -1L, -1L, (long)PERF_FLAG_FD_CLOEXEC);
    judge_call("perf_event_open(self, user-only task clock)", fd, errno, ERR_DENIED);
}

void attack_userfaultfd(void) {
    /* User-mode-only is what an unprivileged caller gets when vm.unprivileged_userfaultfd=0. */
    long fd = syscall(SYS_userfaultfd, (long)(O_CLOEXEC | AJ_UFFD_USER_MODE_ONLY));
    if (fd < 0 && errno == EINVAL) fd = syscall(SYS_userfaultfd, (long)O_CLOEXEC);
    judge_call("userfaultfd", fd, errno, ERR_DENIED);
}

void attack_dev_userfaultfd(void) {
    long fd = syscall(SYS_openat, AT_FDCWD, "/dev/userfaultfd", (long)(O_RDWR | O_CLOEXEC), 0L);
    if (fd >= 0) ESCAPED("opened /dev/userfaultfd");
    int e = errno;
    if (e == ENOENT || e == EACCES || e == EPERM || e == ENXIO || e == ENODEV)
        BLOCKED("open /dev/userfaultfd: %s", ename(e));
    ESCAPED("open /dev/userfaultfd: %s (unexpected)", ename(e));
}

void attack_init_module(void) {
    long rc = syscall(SYS_init_module, NULL, 0L, "");
    judge_call("init_module(empty image)", rc, errno, ERR_DENIED);
}

void attack_finit_module(void) {
    long rc = syscall(SYS_finit_module, -1L, "", 0L);
    judge_call("finit_module(fd -1)", rc, errno, ERR_DENIED);
}

void attack_delete_module(void) {
    long rc = syscall(SYS_delete_module, "aj_probe_no_such_module", (long)O_NONBLOCK);
    judge_call("delete_module(absent name)", rc, errno, ERR_DENIED);
}

void attack_kexec_load(void) {
    /* 1000 segments is over KEXEC_SEGMENT_MAX: EINVAL, but only after the CAP_SYS_BOOT check. */
    long rc = syscall(SYS_kexec_load, 0L, 1000L, NULL, 0L);
    judge_call("kexec_load(1000 segments)", rc, errno, ERR_DENIED);
}

void attack_reboot(void) {
    /* Valid magic, unknown command: EINVAL after the CAP_SYS_BOOT check, never a reboot. */
    long rc = syscall(SYS_reboot, 0xfee1deadL, 672274793L, 0x0badc0deL, NULL);
    judge_call("reboot(valid magic, unknown cmd)", rc, errno, ERR_DENIED);
}

void attack_personality(void) {
    const unsigned long want = 0x0040000 /* ADDR_NO_RANDOMIZE */ | 0x0400000 /* READ_IMPLIES_EXEC */;
    long rc = syscall(SYS_personality, want);
    int e = errno;
    long now = syscall(SYS_personality, 0xffffffffL);
    if (now >= 0 && ((unsigned long)now & want) == want)
        ESCAPED("personality now %#lx (ADDR_NO_RANDOMIZE|READ_IMPLIES_EXEC set)", now);
    if (rc < 0) judge_call("personality(ADDR_NO_RANDOMIZE|READ_IMPLIES_EXEC)", rc, e, ERR_DENIED);
    BLOCKED("personality returned %ld but the flags did not stick (now %#lx)", rc, now);
}

void attack_iopl(void) {
    long rc = syscall(SYS_iopl, 3L);
    judge_call("iopl(3)", rc, errno, ERR_DENIED);
}

void attack_ioperm(void) {
    long rc = syscall(SYS_ioperm, 0x80L, 1L, 1L);
    judge_call("ioperm(0x80)", rc, errno, ERR_DENIED);
}

void attack_swapon(void) {
    long rc = syscall(SYS_swapon, "/aj-probe-no-such-swapfile", 0L);
    judge_call("swapon(absent file)", rc, errno, ERR_DENIED);
}

void attack_settimeofday(void) {
    /* Both NULL: only the CAP_SYS_TIME check runs, the clock is not touched. */
    long rc = syscall(SYS_settimeofday, NULL, NULL);
    judge_call("settimeofday(NULL, NULL)", rc, errno, ERR_DENIED);
}

void attack_clock_adjtime(void) {
    struct timex tx;
    memset(&tx, 0, sizeof tx);
    long rc = syscall(SYS_clock_adjtime, (long)CLOCK_REALTIME, &tx);
    if (rc < 0) judge_call("clock_adjtime(read)", rc, errno, ERR_DENIED);
    /* Write the current tick back unchanged: a privileged no-op. */
    long tick = tx.tick;
    memset(&tx, 0, sizeof tx);
    tx.modes = ADJ_TICK;
    tx.tick = tick;
    rc = syscall(SYS_clock_adjtime, (long)CLOCK_REALTIME, &tx);
    judge_call("clock_adjtime(ADJ_TICK, unchanged)", rc, errno, ERR_DENIED);
}

/* Shared by sethostname/setdomainname: success matters only when the name is the host's. */
static void set_uts_name(long nr, const char *what, const char *current, const char *host) {
    static const char probe_name[] = "aj-probe-pwned";
    long rc = syscall(nr, probe_name, (long)strlen(probe_name));
    int e = errno;
    if (rc != 0) judge_call(what, rc, e, ERR_DENIED);
    syscall(nr, current, (long)strlen(current)); /* put it back at once */
    if (!host) ESCAPED("%s succeeded and the host's name is unknown (was '%s')", what, current);
    if (!strcmp(current, host))
        ESCAPED("%s succeeded in the host's UTS namespace (name '%s')", what, current);
    BLOCKED("%s succeeded only in the sandbox's own UTS namespace ('%s' vs host '%s')", what,
            current, host);
}

void attack_sethostname(void) {
    struct utsname u;
    uname(&u);
    set_uts_name(SYS_sethostname, "sethostname", u.nodename, g_ctx->host_hostname);
}

void attack_setdomainname(void) {
    struct utsname u;
    uname(&u);
    set_uts_name(SYS_setdomainname, "setdomainname", u.domainname, g_ctx->host_domainname);
}

void attack_acct(void) {
    long rc = syscall(SYS_acct, "/aj-probe-no-such-acct-file");
    judge_call("acct(absent file)", rc, errno, ERR_DENIED);
}

void attack_quotactl(void) {
    /* The device lookup precedes the permission check, so without any block device the
     * answer is ENOENT/ENOTBLK: no device to reach is a block too. */
    long rc = syscall(SYS_quotactl, (long)QCMD(Q_GETFMT, USRQUOTA), "/", 0L, NULL);
    static const int blocked[] = {EPERM, EACCES, ENOSYS, ENOENT, ENOTBLK, ENODEV, 0};
    judge_call("quotactl(Q_GETFMT, \"/\")", rc, errno, blocked);
}

void attack_syslog_read_all(void) {
    static char buf[4096];
    long rc = syscall(SYS_syslog, 3L /* SYSLOG_ACTION_READ_ALL */, buf, (long)sizeof buf);
    if (rc > 0) ESCAPED("read %ld bytes of the kernel log", rc);
    judge_call("syslog(READ_ALL)", rc, errno, ERR_DENIED);
}

/* ---- other ABIs ------------------------------------------------------------------- */

static void on_segv(int sig) {
    (void)sig;
    BLOCKED("int 0x80 raised SIGSEGV: this kernel runs no i386 syscalls");
}

/* i386 entry; arguments must be 32-bit addresses (the probe is static, non-PIE). All
 * five argument registers are set so that no stale value reaches the kernel. */
static long int80(long nr, long a, long b, long c, long d, long e) {
    long ret;
    signal(SIGSEGV, on_segv);
    __asm__ volatile("int $0x80"
                     : "=a"(ret)
                     : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e)
                     : "memory", "r8", "r9", "r10", "r11");
    return ret;
}

static const int ERR_I386_NS[] = {EPERM, EACCES, ENOSYS, ENOSPC, EUSERS, 0};

static void judge_raw(const char *what, long ret, const int *blocked) {
    /* Raw kernel return: -errno on failure. */
    if (ret < 0 && ret > -4096) judge_call(what, -1, (int)-ret, blocked);
    ESCAPED("%s succeeded (ret %ld)", what, ret);
}

void attack_i386_unshare_user(void) {
    judge_raw("i386 unshare(CLONE_NEWUSER) via int 0x80 (nr 310)", int80(310, 0x10000000L, 0, 0, 0, 0),
              ERR_I386_NS);
}

void attack_i386_ptrace_traceme(void) {
    judge_raw("i386 ptrace(PTRACE_TRACEME) via int 0x80 (nr 26)", int80(26, 0, 0, 0, 0, 0), ERR_DENIED);
}

void attack_i386_mount(void) {
    static const char src[] = "none", dst[] = "/tmp", type[] = "tmpfs";
    if ((uintptr_t)src > 0xffffffffUL) SKIPPED("probe data above 4 GiB (built as PIE?)");
    judge_raw("i386 mount(tmpfs on /tmp) via int 0x80 (nr 21)",
              int80(21, (long)(uintptr_t)src, (long)(uintptr_t)dst, (long)(uintptr_t)type, 0, 0),
              ERR_DENIED);
}

void attack_x32_unshare_user(void) {
    long rc = syscall(AJ_X32_SYSCALL_BIT | SYS_unshare, 0x10000000L);
    judge_call("x32 unshare(CLONE_NEWUSER) (nr 272|0x40000000)", rc, errno, ERR_DENIED);
}

void attack_x32_ptrace_traceme(void) {
    long rc = syscall(AJ_X32_SYSCALL_BIT | 521L, 0L, 0L, 0L, 0L);
    judge_call("x32 ptrace(PTRACE_TRACEME) (nr 521|0x40000000)", rc, errno, ERR_DENIED);
}

void attack_x32_mount(void) {
    long rc = syscall(AJ_X32_SYSCALL_BIT | SYS_mount, "none", "/tmp", "tmpfs", 0L, NULL);
    judge_call("x32 mount(tmpfs on /tmp) (nr 165|0x40000000)", rc, errno, ERR_DENIED);
}

/* Numbers newer than the filter compiler: a deny-list filter compiled by a libseccomp
 * that does not know a call lets it through (open_tree_attr, 467, new mount API). The
 * filter must answer every number above the newest it knows with ENOSYS, per ABI. A
 * number the running kernel has is used where there is one, so a pass is visible. */
void attack_syscall_newer_than_filter(void) {
    static const long nrs[] = {467, 1000, AJ_X32_SYSCALL_BIT | 467, AJ_X32_SYSCALL_BIT | 600};
    for (size_t i = 0; i < sizeof nrs / sizeof nrs[0]; ++i) {
        errno = 0;
        long rc = syscall(nrs[i], -1L, 0L, 0L, 0L, 0L, 0L);
        if (rc >= 0 || errno != ENOSYS)
            ESCAPED("syscall %#lx reached the kernel: rc %ld, %s", nrs[i], rc, ename(errno));
    }
    BLOCKED("467, 1000 and x32 467/600 all answered ENOSYS");
}
