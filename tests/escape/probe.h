/* The escape probe: a static program run inside a sandbox that attempts one attack per
 * entry of attacks.def, each in its own forked child with a time bound, and prints
 *   ATTACK <name> BLOCKED|ESCAPED|SKIPPED <detail>
 * and finally `SUMMARY escaped=N blocked=M skipped=K`.
 *
 * Verdict rule: an attack is BLOCKED only on the failure it expects (a named errno, the
 * absence of a file, or death by SIGSYS from a seccomp kill); any success, and any failure
 * that shows the privilege check was passed (EINVAL past an EPERM check...), is ESCAPED.
 * Everything is done with raw syscall() so libc wrappers cannot hide a result. */
#ifndef AJ_ESCAPE_PROBE_H
#define AJ_ESCAPE_PROBE_H

#include <stdarg.h>
#include <stdbool.h>
#include <sys/types.h>

enum verdict_kind { V_BLOCKED, V_ESCAPED, V_SKIPPED };

#define AJ_MAX_FDS 1024

/* Everything the caller told the probe (argv key=value) plus what it saw at startup,
 * before it opened anything itself. */
struct probe_ctx {
    long host_pid;            /* host_pid=: a host process owned by the sandbox's uid */
    const char *host_comm;    /* host_comm=: that process's comm, to recognise it */
    const char *secret_path;  /* secret=: a host file the policy does not name */
    long tcp_port;            /* tcp_port=: listener on host 127.0.0.1 */
    const char *unix_name;    /* unix_abstract=: host abstract unix socket name (no NUL) */
    const char *env_name;     /* env_name=: variable set for the launcher, must be gone */
    const char *env_value;    /* env_value=: its value */
    const char *host_hostname;   /* host_hostname=: uname -n of the host */
    const char *host_domainname; /* host_domainname=: uname's domainname of the host */
    const char *suid_copy;    /* suid_copy=: a setuid-root copy of this probe */
    long mem_limit_mb;        /* mem_mb=: policy max_memory_mb (-1 unknown / none) */
    long tmp_limit_mb;        /* tmp_mb=: policy max_tmpfs_mb */
    long fd_limit;            /* open_files=: policy max_open_files */
    long pids_limit;          /* pids=: policy max_pids */
    long cpu_limit_sec;       /* cpu_sec=: policy max_cpu_sec */
    /* The host boundary (attacks_host.c); each only where the harness could set it up. */
    const char *nobody_file;    /* nobody_file=: a 0600 file of uid 65534 (a nobody daemon's) */
    const char *neighbour_file; /* neighbour_file=: a 0600 file another live sandbox wrote */
    const char *quota_dir;      /* quota_dir=: where the harness answers the quota attack */
    long caller_tty;            /* caller_tty=: st_rdev of the caller's own terminal */
    const char *proc_submount;  /* proc_submount=: a procfs mounted below a granted tree */
    /* Seen at startup. */
    bool fd_open[AJ_MAX_FDS];
    char cwd_at_start[512];
    int cwd_errno;
};

extern const struct probe_ctx *g_ctx;

/* Ends the current attack child with a verdict (never returns). */
__attribute__((noreturn, format(printf, 2, 3))) void verdict(enum verdict_kind kind,
                                                               const char *fmt, ...);
#define BLOCKED(...) verdict(V_BLOCKED, __VA_ARGS__)
#define ESCAPED(...) verdict(V_ESCAPED, __VA_ARGS__)
#define SKIPPED(...) verdict(V_SKIPPED, __VA_ARGS__)

/* Name of an errno value ("EPERM"), never NULL. */
const char *ename(int err);

/* Verdict for a privileged call: rc >= 0 is ESCAPED; errno in the zero-terminated list
 * `blocked` is BLOCKED; any other errno is ESCAPED ("privilege check passed"). */
__attribute__((noreturn)) void judge_call(const char *what, long rc, int err,
                                          const int *blocked);
/* The common lists. */
extern const int ERR_DENIED[];    /* EPERM EACCES ENOSYS */
extern const int ERR_NOFILE[];    /* ENOENT EACCES EPERM ENOTDIR ENXIO ENODEV EROFS ELOOP */

/* Small helpers. */
bool same_file(int fd_a, int fd_b);
/* Walks ".." from dirfd up to 256 times and tells whether it ends at our own "/". */
bool walk_reaches_our_root(int dirfd, char *where, size_t where_len);
long arg_or(long v, long dflt);

#define AJ_ATTACK(name, timeout, modes) void attack_##name(void);
#include "attacks.def"
#undef AJ_ATTACK

#endif
