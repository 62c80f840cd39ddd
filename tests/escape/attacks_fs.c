/* Attacks on the filesystem view: files outside the policy, writes to read-only binds,
 * setuid binaries, the mount API old and new, file handles, device nodes, /proc and /sys,
 * and directory fds or a cwd that lead outside the new root (runc CVE-2024-21626). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe.h"

/* New mount API constants (kept here: <linux/mount.h> clashes with glibc's <sys/mount.h>). */
#define AJ_FSOPEN_CLOEXEC 0x1
#define AJ_FSCONFIG_CMD_CREATE 6
#define AJ_FSMOUNT_CLOEXEC 0x1
#define AJ_MOVE_MOUNT_F_EMPTY_PATH 0x4
#define AJ_OPEN_TREE_CLONE 1
#define AJ_AT_RECURSIVE 0x8000
#define AJ_MOUNT_ATTR_RDONLY 0x1
struct aj_mount_attr {
    uint64_t attr_set, attr_clr, propagation, userns_fd;
};

static long sys_open(const char *path, int flags, int mode) {
    return syscall(SYS_openat, AT_FDCWD, path, flags | O_CLOEXEC, mode);
}

static bool in_list(int err, const int *list) {
    for (; *list; ++list)
        if (*list == err) return true;
    return false;
}

/* A directory we can open is only a leak if it is not something the sandbox made: it has
 * entries or sits on another filesystem than our "/". */
static void judge_host_dir(const char *path) {
    long fd = sys_open(path, O_RDONLY | O_DIRECTORY, 0);
    if (fd < 0) {
        int e = errno;
        if (in_list(e, ERR_NOFILE)) BLOCKED("open %s: %s", path, ename(e));
        ESCAPED("open %s: %s (unexpected)", path, ename(e));
    }
    struct stat d, r;
    fstat((int)fd, &d);
    if (stat("/", &r) != 0) r.st_dev = (dev_t)-1;
    DIR *dir = fdopendir((int)fd);
    int entries = 0;
    char first[256] = "";
    for (struct dirent *de; dir && (de = readdir(dir));) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        if (!entries++) snprintf(first, sizeof first, "%s", de->d_name);
    }
    if (entries > 0 || d.st_dev != r.st_dev)
        ESCAPED("%s is readable: %d entries (first '%s'), dev %lu vs / dev %lu", path, entries,
                first, (unsigned long)d.st_dev, (unsigned long)r.st_dev);
    BLOCKED("%s exists but is an empty directory of the sandbox's own root", path);
}

void attack_read_etc_shadow(void) {
    long fd = sys_open("/etc/shadow", O_RDONLY, 0);
    if (fd >= 0) {
        char buf[64];
        ssize_t n = read((int)fd, buf, sizeof buf);
        ESCAPED("opened /etc/shadow and read %zd bytes", n);
    }
    int e = errno;
    if (in_list(e, ERR_NOFILE)) BLOCKED("open /etc/shadow: %s", ename(e));
    ESCAPED("open /etc/shadow: %s (unexpected)", ename(e));
}

void attack_read_root_home(void) { judge_host_dir("/root"); }
void attack_read_home(void) { judge_host_dir("/home"); }

void attack_read_secret_path(void) {
    const char *p = g_ctx->secret_path;
    if (!p) SKIPPED("no secret= path given");
    long fd = sys_open(p, O_RDONLY, 0);
    if (fd >= 0) {
        char buf[64];
        ssize_t n = read((int)fd, buf, sizeof buf);
        ESCAPED("read %zd bytes of the host file %s", n, p);
    }
    int e = errno;
    if (in_list(e, ERR_NOFILE)) BLOCKED("open %s: %s", p, ename(e));
    ESCAPED("open %s: %s (unexpected)", p, ename(e));
}

static const int ERR_NOWRITE[] = {EROFS, EACCES, EPERM, ENOENT, ENOTDIR, 0};

void attack_write_usr_create(void) {
    char path[64];
    snprintf(path, sizeof path, "/usr/aj-probe-%d", (int)getpid());
    long fd = sys_open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);
    if (fd >= 0) {
        unlink(path);
        ESCAPED("created %s on the read-only /usr bind", path);
    }
    int e = errno;
    if (in_list(e, ERR_NOWRITE)) BLOCKED("create %s: %s", path, ename(e));
    ESCAPED("create %s: %s (unexpected)", path, ename(e));
}

void attack_write_usr_existing(void) {
    static const char *const files[] = {"/usr/bin/true", "/usr/bin/env", "/usr/lib/os-release",
                                        "/usr/bin/sh", NULL};
    char detail[400] = "";
    size_t off = 0;
    int tried = 0;
    for (int i = 0; files[i]; ++i) {
        /* O_WRONLY without O_TRUNC: the open itself is the test, nothing is written. */
        long fd = sys_open(files[i], O_WRONLY | O_NOFOLLOW, 0);
        if (fd >= 0) ESCAPED("opened %s for writing", files[i]);
        int e = errno;
        if (e == ENOENT || e == ELOOP) continue;
        ++tried;
        if (!in_list(e, ERR_NOWRITE)) ESCAPED("open %s O_WRONLY: %s (unexpected)", files[i], ename(e));
        off += (size_t)snprintf(detail + off, sizeof detail - off, "%s:%s ", files[i], ename(e));
        if (off >= sizeof detail) off = sizeof detail - 1;
    }
    if (!tried) SKIPPED("no existing regular file under /usr to try");
    BLOCKED("%s", detail);
}

void attack_create_in_root(void) {
    char path[64];
    snprintf(path, sizeof path, "/aj-probe-%d", (int)getpid());
    long fd = sys_open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);
    if (fd >= 0) {
        unlink(path);
        ESCAPED("created %s: the sandbox root is writable", path);
    }
    int e = errno;
    if (syscall(SYS_mkdirat, AT_FDCWD, path, 0700) == 0) {
        rmdir(path);
        ESCAPED("mkdir %s succeeded: the sandbox root is writable", path);
    }
    int e2 = errno;
    if (in_list(e, ERR_NOWRITE) && in_list(e2, ERR_NOWRITE))
        BLOCKED("create %s: %s, mkdir: %s", path, ename(e), ename(e2));
    ESCAPED("create %s: %s, mkdir: %s (unexpected)", path, ename(e), ename(e2));
}

static int no_new_privs_set(void) { return (int)prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0); }

struct suid_scan {
    int visible, exec_capable, entries;
    char example[300];
};

static void scan_suid(const char *dir, int depth, struct suid_scan *s) {
    if (depth > 3 || s->entries > 40000) return;
    DIR *d = opendir(dir);
    if (!d) return;
    for (struct dirent *de; (de = readdir(d));) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        if (++s->entries > 40000) break;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        struct stat st;
        if (fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            scan_suid(path, depth + 1, s);
        } else if (S_ISREG(st.st_mode) && (st.st_mode & (S_ISUID | S_ISGID))) {
            s->visible++;
            struct statvfs vfs;
            bool nosuid = statvfs(path, &vfs) == 0 && (vfs.f_flag & ST_NOSUID);
            if (!nosuid) {
                if (!s->exec_capable++)
                    snprintf(s->example, sizeof s->example, "%.250s (uid %u, mode %o)", path,
                             st.st_uid, st.st_mode & 07777);
            }
        }
    }
    closedir(d);
}

void attack_setuid_binary_visible(void) {
    static const char *const roots[] = {"/usr/bin", "/usr/sbin", "/usr/lib", "/usr/libexec",
                                        "/usr/local", "/bin", "/sbin", "/opt", NULL};
    struct suid_scan s = {0};
    for (int i = 0; roots[i]; ++i) scan_suid(roots[i], 0, &s);
    int nnp = no_new_privs_set();
    if (s.exec_capable == 0)
        BLOCKED("%d setuid/setgid files visible, all on nosuid mounts (no_new_privs=%d)", s.visible,
                nnp);
    if (nnp == 1)
        BLOCKED("%d setuid files on suid-enabled mounts (e.g. %s) but no_new_privs=1 makes exec "
                "not raise privileges",
                s.exec_capable, s.example);
    ESCAPED("%d setuid files on suid-enabled mounts (e.g. %s) and no_new_privs unset",
            s.exec_capable, s.example);
}

void attack_setuid_copy_exec(void) {
    const char *p = g_ctx->suid_copy;
    if (!p) SKIPPED("no setuid-root copy of the probe given (the caller is not root)");
    struct stat st;
    if (stat(p, &st) != 0) BLOCKED("setuid copy %s not visible: %s", p, ename(errno));
    if (!(st.st_mode & S_ISUID)) SKIPPED("%s is not setuid (mode %o)", p, st.st_mode & 07777);
    int fds[2];
    if (pipe(fds) != 0) ESCAPED("undecided: pipe: %s", ename(errno));
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        char *const argv[] = {(char *)p, (char *)"--print-ids", NULL};
        char *const envp[] = {NULL};
        syscall(SYS_execve, p, argv, envp);
        dprintf(fds[1], "exec-failed %d\n", errno);
        _exit(127);
    }
    close(fds[1]);
    char buf[200] = "";
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    if (n > 0) buf[n] = '\0';
    waitpid(pid, NULL, 0);
    unsigned r, e, sv, rg, eg, sg;
    int err;
    if (sscanf(buf, "exec-failed %d", &err) == 1) {
        if (err == EACCES || err == EPERM) BLOCKED("exec %s: %s", p, ename(err));
        ESCAPED("undecided: exec %s: %s", p, ename(err));
    }
    if (sscanf(buf, "ids %u %u %u %u %u %u", &r, &e, &sv, &rg, &eg, &sg) != 6)
        ESCAPED("undecided: setuid copy printed '%s'", buf);
    if (e != geteuid() || sv != geteuid() || eg != getegid())
        ESCAPED("exec of the setuid copy raised euid %u->%u (egid %u->%u)", geteuid(), e,
                getegid(), eg);
    BLOCKED("euid stayed %u after exec of the setuid-root copy (owner uid %u here)", e,
            st.st_uid);
}

void attack_mount_tmpfs(void) {
    long rc = syscall(SYS_mount, "none", "/tmp", "tmpfs", 0L, "size=1m");
    if (rc == 0) umount2("/tmp", MNT_DETACH);
    judge_call("mount tmpfs on /tmp", rc, errno, ERR_DENIED);
}

void attack_remount_usr_rw(void) {
    long rc = syscall(SYS_mount, NULL, "/usr", NULL, (long)(MS_REMOUNT | MS_BIND), NULL);
    int e = errno;
    if (rc == 0) {
        syscall(SYS_mount, NULL, "/usr", NULL, (long)(MS_REMOUNT | MS_BIND | MS_RDONLY), NULL);
        ESCAPED("remounted /usr read-write");
    }
    judge_call("remount /usr rw", rc, e, ERR_DENIED);
}

void attack_pivot_root(void) {
    /* The capability check comes before any path check, so "/" "/" is enough to tell. */
    long rc = syscall(SYS_pivot_root, "/", "/");
    judge_call("pivot_root", rc, errno, ERR_DENIED);
}

void attack_chroot_escape(void) {
    syscall(SYS_mkdirat, AT_FDCWD, "/tmp/aj-probe-chroot", 0700);
    const char *dir = access("/tmp/aj-probe-chroot", F_OK) == 0 ? "/tmp/aj-probe-chroot" : "/tmp";
    int oldroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    long rc = syscall(SYS_chroot, dir);
    int e = errno;
    if (rc != 0) {
        rmdir("/tmp/aj-probe-chroot");
        judge_call("chroot", rc, e, ERR_DENIED);
    }
    /* Classic escape: cwd stays outside the new root, walk up, chroot there. */
    for (int i = 0; i < 256; ++i) chdir("..");
    syscall(SYS_chroot, ".");
    int nowroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    bool secret = g_ctx->secret_path && access(g_ctx->secret_path, F_OK) == 0;
    ESCAPED("chroot(%s) allowed (CAP_SYS_CHROOT held); after the ..-walk root is %s; host secret "
            "%s",
            dir, same_file(oldroot, nowroot) ? "the sandbox root" : "ANOTHER root",
            secret ? "VISIBLE" : "not visible");
}

void attack_fsopen_fsmount(void) {
    long fs = syscall(SYS_fsopen, "tmpfs", AJ_FSOPEN_CLOEXEC);
    if (fs < 0) judge_call("fsopen tmpfs", fs, errno, ERR_DENIED);
    long c = syscall(SYS_fsconfig, fs, AJ_FSCONFIG_CMD_CREATE, NULL, NULL, 0);
    long m = c == 0 ? syscall(SYS_fsmount, fs, AJ_FSMOUNT_CLOEXEC, 0) : -1;
    long mv = m >= 0 ? syscall(SYS_move_mount, m, "", AT_FDCWD, "/tmp", AJ_MOVE_MOUNT_F_EMPTY_PATH)
                     : -1;
    if (mv == 0) umount2("/tmp", MNT_DETACH);
    ESCAPED("fsopen succeeded; fsconfig=%ld fsmount=%ld move_mount=%ld", c, m, mv);
}

void attack_open_tree_clone(void) {
    long fd = syscall(SYS_open_tree, AT_FDCWD, "/usr", AJ_OPEN_TREE_CLONE | O_CLOEXEC | AJ_AT_RECURSIVE);
    judge_call("open_tree(/usr, OPEN_TREE_CLONE)", fd, errno, ERR_DENIED);
}

void attack_move_mount(void) {
    /* The mount capability check comes first; moving /tmp onto itself changes nothing. */
    long rc = syscall(SYS_move_mount, AT_FDCWD, "/tmp", AT_FDCWD, "/tmp", 0);
    judge_call("move_mount /tmp", rc, errno, ERR_DENIED);
}

void attack_mount_setattr_usr_rw(void) {
    struct aj_mount_attr attr = {0, AJ_MOUNT_ATTR_RDONLY, 0, 0};
    long rc = syscall(SYS_mount_setattr, AT_FDCWD, "/usr", 0, &attr, sizeof attr);
    int e = errno;
    if (rc == 0) {
        struct aj_mount_attr back = {AJ_MOUNT_ATTR_RDONLY, 0, 0, 0};
        syscall(SYS_mount_setattr, AT_FDCWD, "/usr", 0, &back, sizeof back);
        ESCAPED("mount_setattr cleared MOUNT_ATTR_RDONLY on /usr");
    }
    judge_call("mount_setattr(/usr, clear RDONLY)", rc, e, ERR_DENIED);
}

void attack_open_by_handle_at(void) {
    /* Shocker-style: a handle is an inode number; opening one bypasses the mount view. */
    struct {
        unsigned int handle_bytes;
        int handle_type;
        unsigned char f_handle[128];
    } h = {128, 0, {0}};
    int mount_id = 0;
    const char *target = "/usr";
    long nr = syscall(SYS_name_to_handle_at, AT_FDCWD, target, &h, &mount_id, 0);
    int ne = errno;
    if (nr != 0) { /* no handle: forge one (ext4-style root inode 2) */
        h.handle_bytes = 8;
        h.handle_type = 1;
        memset(h.f_handle, 0, sizeof h.f_handle);
        h.f_handle[0] = 2;
    }
    int mfd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    long fd = syscall(SYS_open_by_handle_at, mfd, &h, O_RDONLY | O_CLOEXEC);
    int e = errno;
    if (fd >= 0) ESCAPED("open_by_handle_at opened a file by handle (name_to_handle_at: %s)",
                         nr == 0 ? "ok" : ename(ne));
    judge_call(nr == 0 ? "open_by_handle_at(real handle of /usr)" : "open_by_handle_at(forged handle)",
               fd, e, ERR_DENIED);
}

void attack_mknod_device(void) {
    const char *path = "/tmp/aj-probe-mem";
    /* 1:1 is /dev/mem: a node for it is the classic way around a curated /dev. */
    long rc = syscall(SYS_mknodat, AT_FDCWD, path, (long)(S_IFCHR | 0600), (long)makedev(1, 1));
    int e = errno;
    if (rc == 0) {
        long fd = sys_open(path, O_RDONLY, 0);
        int oe = errno;
        unlink(path);
        ESCAPED("mknod char 1:1 succeeded; opening it: %s", fd >= 0 ? "OPENED" : ename(oe));
    }
    rc = syscall(SYS_mknodat, AT_FDCWD, "/tmp/aj-probe-blk", (long)(S_IFBLK | 0600),
                 (long)makedev(8, 0));
    int e2 = errno;
    if (rc == 0) {
        unlink("/tmp/aj-probe-blk");
        ESCAPED("mknod block 8:0 succeeded");
    }
    static const int blocked[] = {EPERM, EACCES, ENOSYS, EROFS, 0};
    if (in_list(e, blocked) && in_list(e2, blocked))
        BLOCKED("mknod char 1:1: %s, block 8:0: %s", ename(e), ename(e2));
    ESCAPED("mknod: %s / %s (unexpected)", ename(e), ename(e2));
}

void attack_dev_mem_kmem_port(void) {
    static const char *const nodes[] = {"/dev/mem", "/dev/kmem", "/dev/port", NULL};
    char detail[200] = "";
    size_t off = 0;
    for (int i = 0; nodes[i]; ++i) {
        long fd = sys_open(nodes[i], O_RDONLY, 0);
        if (fd >= 0) ESCAPED("opened %s", nodes[i]);
        int e = errno;
        if (!in_list(e, ERR_NOFILE)) ESCAPED("open %s: %s (unexpected)", nodes[i], ename(e));
        off += (size_t)snprintf(detail + off, sizeof detail - off, "%s:%s ", nodes[i], ename(e));
    }
    BLOCKED("%s", detail);
}

static void find_block_nodes(const char *dir, int depth, char found[][128], int *n) {
    if (depth > 2) return;
    DIR *d = opendir(dir);
    if (!d) return;
    for (struct dirent *de; (de = readdir(d)) && *n < 32;) {
        if (de->d_name[0] == '.') continue;
        char path[128];
        snprintf(path, sizeof path, "%.60s/%.60s", dir, de->d_name);
        struct stat st;
        if (lstat(path, &st) != 0) continue;
        if (S_ISBLK(st.st_mode)) snprintf(found[(*n)++], 128, "%s", path);
        else if (S_ISDIR(st.st_mode)) find_block_nodes(path, depth + 1, found, n);
    }
    closedir(d);
}

void attack_dev_block_devices(void) {
    static char found[40][128];
    int n = 0;
    static const char *const guesses[] = {"/dev/sda", "/dev/vda", "/dev/xvda", "/dev/nvme0n1",
                                          "/dev/dm-0", "/dev/loop0", "/dev/root", NULL};
    for (int i = 0; guesses[i]; ++i) snprintf(found[n++], 128, "%s", guesses[i]);
    find_block_nodes("/dev", 0, found, &n);
    int visible = 0;
    for (int i = 0; i < n; ++i) {
        struct stat st;
        if (stat(found[i], &st) == 0) ++visible;
        long fd = sys_open(found[i], O_RDONLY, 0);
        if (fd >= 0) ESCAPED("opened block device %s", found[i]);
        int e = errno;
        if (!in_list(e, ERR_NOFILE)) ESCAPED("open %s: %s (unexpected)", found[i], ename(e));
    }
    BLOCKED("%d candidate block nodes, %d visible, none openable", n, visible);
}

static void judge_write_opens(const char *const *files, const char *what) {
    char detail[500] = "";
    size_t off = 0;
    for (int i = 0; files[i]; ++i) {
        /* Opening for writing is the test; nothing is written. */
        long fd = sys_open(files[i], O_WRONLY, 0);
        if (fd >= 0) ESCAPED("opened %s for writing", files[i]);
        int e = errno;
        if (!in_list(e, ERR_NOFILE)) ESCAPED("open %s O_WRONLY: %s (unexpected)", files[i], ename(e));
        if (off < sizeof detail - 1)
            off += (size_t)snprintf(detail + off, sizeof detail - off, "%s:%s ", files[i], ename(e));
    }
    BLOCKED("%s: %s", what, detail);
}

void attack_proc_sys_write(void) {
    static const char *const files[] = {
        "/proc/sys/kernel/hostname", "/proc/sys/kernel/core_pattern", "/proc/sys/kernel/modprobe",
        "/proc/sys/vm/drop_caches",  "/proc/sys/kernel/sysrq",        "/proc/sys/net/ipv4/ip_forward",
        "/proc/sys/fs/protected_symlinks", NULL};
    judge_write_opens(files, "/proc/sys");
}

void attack_sys_write(void) {
    long dfd = sys_open("/sys", O_RDONLY | O_DIRECTORY, 0);
    if (dfd < 0 && (errno == ENOENT || errno == EACCES)) BLOCKED("/sys: %s", ename(errno));
    char cg[80];
    snprintf(cg, sizeof cg, "/sys/fs/cgroup/aj-probe-%d", (int)getpid());
    if (syscall(SYS_mkdirat, AT_FDCWD, cg, 0755) == 0) {
        rmdir(cg);
        ESCAPED("created cgroup %s", cg);
    }
    static const char *const files[] = {"/sys/kernel/mm/transparent_hugepage/enabled",
                                        "/sys/power/state", "/sys/kernel/uevent_helper",
                                        "/sys/fs/cgroup/cgroup.procs", "/sys/fs/cgroup/unified/cgroup.procs",
                                        "/sys/fs/cgroup/pids/cgroup.procs", NULL};
    judge_write_opens(files, "/sys");
}

void attack_proc_sysrq_trigger(void) {
    static const char *const files[] = {"/proc/sysrq-trigger", NULL};
    judge_write_opens(files, "sysrq");
}

void attack_inherited_fds(void) {
    char detail[600] = "";
    size_t off = 0;
    int n = 0;
    for (int fd = 3; fd < AJ_MAX_FDS; ++fd) {
        if (!g_ctx->fd_open[fd]) continue;
        char link[64], target[200] = "?";
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t l = readlink(link, target, sizeof target - 1);
        if (l > 0) target[l] = '\0';
        ++n;
        if (off < sizeof detail - 1)
            off += (size_t)snprintf(detail + off, sizeof detail - off, "fd %d -> %s; ", fd, target);
    }
    if (n) ESCAPED("%d fds above 2 open at start: %s", n, detail);
    BLOCKED("no fd above 2 was open at start (checked 3..%d)", AJ_MAX_FDS - 1);
}

void attack_fd_outside_root(void) {
    int dirs = 0;
    for (int fd = 0; fd < AJ_MAX_FDS; ++fd) {
        if (fd > 2 && !g_ctx->fd_open[fd]) continue;
        struct stat st;
        if (fstat(fd, &st) != 0 || !S_ISDIR(st.st_mode)) continue;
        ++dirs;
        char where[120] = "";
        if (!walk_reaches_our_root(fd, where, sizeof where))
            ESCAPED("inherited directory fd %d leads outside the root: %s", fd, where);
        /* The same object seen through /proc/self/fd, the way runc's cwd leak was used. */
        char link[64];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        int pfd = open(link, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (pfd >= 0 && !walk_reaches_our_root(pfd, where, sizeof where))
            ESCAPED("%s leads outside the root: %s", link, where);
    }
    BLOCKED("%d directory fds inherited; none leads outside the root", dirs);
}

void attack_cwd_outside_root(void) {
    if (g_ctx->cwd_errno == ENOENT || !strncmp(g_ctx->cwd_at_start, "(unreachable)", 13))
        ESCAPED("cwd at start is outside the root (getcwd: %s '%s')", ename(g_ctx->cwd_errno),
                g_ctx->cwd_at_start);
    int fd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    char where[120] = "";
    if (fd >= 0 && !walk_reaches_our_root(fd, where, sizeof where))
        ESCAPED("cwd '%s' leads outside the root: %s", g_ctx->cwd_at_start, where);
    int pfd = open("/proc/self/cwd", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (pfd >= 0 && !walk_reaches_our_root(pfd, where, sizeof where))
        ESCAPED("/proc/self/cwd leads outside the root: %s", where);
    BLOCKED("cwd '%s' is inside the root (..-walk reaches our /)", g_ctx->cwd_at_start);
}

void attack_umount_proc(void) {
    long rc = syscall(SYS_umount2, "/proc", (long)MNT_DETACH);
    judge_call("umount2 /proc", rc, errno, ERR_DENIED);
}

void attack_proc_kcore(void) {
    long fd = sys_open("/proc/kcore", O_RDONLY, 0);
    if (fd >= 0) ESCAPED("opened /proc/kcore");
    int e = errno;
    if (in_list(e, ERR_NOFILE)) BLOCKED("open /proc/kcore: %s", ename(e));
    ESCAPED("open /proc/kcore: %s (unexpected)", ename(e));
}

void attack_proc_kallsyms_addresses(void) {
    FILE *f = fopen("/proc/kallsyms", "re");
    if (!f) {
        int e = errno;
        if (in_list(e, ERR_NOFILE)) BLOCKED("open /proc/kallsyms: %s", ename(e));
        ESCAPED("open /proc/kallsyms: %s (unexpected)", ename(e));
    }
    char line[256];
    int n = 0;
    while (n < 20000 && fgets(line, sizeof line, f)) {
        ++n;
        unsigned long long addr = strtoull(line, NULL, 16);
        if (addr) ESCAPED("kernel address visible: %.60s", line);
    }
    BLOCKED("all %d symbol addresses read as zero", n);
}

/* Set-uid planting: the run directory stays on the host after the run, where a set-uid
 * copy of a shell left by the sandbox would give its owner's uid to any local user. Every
 * way of giving a file (or directory) a set-id mode must fail inside; the caller also
 * checks that nothing set-id is left in the work directory afterwards. */
void attack_setid_plant(void) {
    static const char *const names[] = {"aj-planted-chmod", "aj-planted-open", "aj-planted-dir",
                                        "aj-planted-mknod", NULL};
    for (int i = 0; names[i]; ++i) unlink(names[i]);
    rmdir("aj-planted-dir");
    int fd = (int)syscall(SYS_openat, AT_FDCWD, names[0], O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
    if (fd < 0) SKIPPED("cannot create a file in the cwd (%s): nothing to plant in", ename(errno));
    long rcs[6];
    int errs[6];
    rcs[0] = syscall(SYS_fchmod, fd, 04755);
    errs[0] = errno;
    close(fd);
    rcs[1] = syscall(SYS_chmod, names[0], 02755);
    errs[1] = errno;
    rcs[2] = syscall(SYS_fchmodat, AT_FDCWD, names[0], 06755, 0);
    errs[2] = errno;
    rcs[3] = syscall(SYS_openat, AT_FDCWD, names[1], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 04755);
    errs[3] = errno;
    if (rcs[3] >= 0) close((int)rcs[3]);
    rcs[4] = syscall(SYS_mkdirat, AT_FDCWD, "aj-planted-dir", 02755);
    errs[4] = errno;
    rcs[5] = syscall(SYS_mknodat, AT_FDCWD, names[3], S_IFREG | 04755, 0);
    errs[5] = errno;
    static const char *const what[] = {"fchmod 04755", "chmod 02755", "fchmodat 06755",
                                       "openat O_CREAT 04755", "mkdirat 02755", "mknodat S_IFREG|04755"};
    char found[200] = "";
    for (int i = 0; names[i]; ++i) {
        struct stat st;
        if (lstat(names[i], &st) == 0 && (st.st_mode & (S_ISUID | S_ISGID)) && !found[0])
            snprintf(found, sizeof found, "%s has mode %o", names[i], (unsigned)(st.st_mode & 07777));
    }
    for (int i = 0; names[i]; ++i) unlink(names[i]);
    rmdir("aj-planted-dir");
    if (found[0]) ESCAPED("a set-id file was planted: %s", found);
    for (int i = 0; i < 6; ++i) {
        if (rcs[i] >= 0) ESCAPED("%s succeeded (the mode did not stick, but the call was not refused)", what[i]);
        if (errs[i] != EPERM && errs[i] != EACCES) ESCAPED("undecided: %s: %s", what[i], ename(errs[i]));
    }
    BLOCKED("chmod/fchmod/fchmodat/openat/mkdirat/mknodat with set-id modes all refused (EPERM)");
}
