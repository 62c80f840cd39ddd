// aj_vm_quota: what vm.project_quota needs of project quotas, which busybox has no tool
// for (static, so it runs in the busybox guest and inside a sandbox).
//   aj_vm_quota projid PATH        prints "projid=N inherit=0|1" (lsattr -p, FS_IOC_FSGETXATTR)
//   aj_vm_quota usage DIR ID       prints "bytes=N inodes=N block_limit_kib=N inode_limit=N"
//                                  for project ID on DIR's file system (quotactl_fd Q_GETQUOTA)
//   aj_vm_quota setprojid PATH ID  FS_IOC_FSSETXATTR: project ID with PROJINHERIT
//   aj_vm_quota noinherit PATH     FS_IOC_SETFLAGS: clears FS_PROJINHERIT_FL
//   aj_vm_quota setlimit DIR ID KIB  Q_SETQUOTA: a block limit for project ID
// The setters print "ok" or "refused: ERRNO-NAME (N)" and exit 0 only on success.
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/quota.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int refused(const char* what) {
    const int err = errno;
    const char* name = err == EPERM ? "EPERM" : err == EINVAL ? "EINVAL" : err == EACCES ? "EACCES"
                     : err == ENOSYS ? "ENOSYS" : err == ENOTTY ? "ENOTTY" : err == EOPNOTSUPP ? "EOPNOTSUPP" : "other";
    printf("refused: %s (%d) %s\n", name, err, what);
    return 1;
}

static int open_path(const char* path) {
    const int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        perror(path);
        exit(2);
    }
    return fd;
}

int main(int argc, char** argv) {
    if (argc >= 3 && strcmp(argv[1], "projid") == 0) {
        struct fsxattr a;
        memset(&a, 0, sizeof a);
        if (ioctl(open_path(argv[2]), FS_IOC_FSGETXATTR, &a) != 0) return refused("FS_IOC_FSGETXATTR");
        printf("projid=%u inherit=%d\n", a.fsx_projid, (a.fsx_xflags & FS_XFLAG_PROJINHERIT) != 0);
        return 0;
    }
    if (argc >= 4 && strcmp(argv[1], "usage") == 0) {
        struct if_dqblk q;
        memset(&q, 0, sizeof q);
        if (syscall(SYS_quotactl_fd, open_path(argv[2]), QCMD(Q_GETQUOTA, PRJQUOTA), (unsigned)strtoul(argv[3], 0, 10),
                    &q) != 0)
            return refused("Q_GETQUOTA");
        printf("bytes=%llu inodes=%llu block_limit_kib=%llu inode_limit=%llu\n", (unsigned long long)q.dqb_curspace,
               (unsigned long long)q.dqb_curinodes, (unsigned long long)q.dqb_bhardlimit,
               (unsigned long long)q.dqb_ihardlimit);
        return 0;
    }
    if (argc >= 4 && strcmp(argv[1], "setprojid") == 0) {
        const int fd = open_path(argv[2]);
        struct fsxattr a;
        memset(&a, 0, sizeof a);
        if (ioctl(fd, FS_IOC_FSGETXATTR, &a) != 0) return refused("FS_IOC_FSGETXATTR");
        a.fsx_projid = (unsigned)strtoul(argv[3], 0, 10);
        a.fsx_xflags |= FS_XFLAG_PROJINHERIT;
        if (ioctl(fd, FS_IOC_FSSETXATTR, &a) != 0) return refused("FS_IOC_FSSETXATTR");
        puts("ok");
        return 0;
    }
    if (argc >= 3 && strcmp(argv[1], "noinherit") == 0) {
        const int fd = open_path(argv[2]);
        long flags = 0;
        if (ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0) return refused("FS_IOC_GETFLAGS");
        flags &= ~(long)FS_PROJINHERIT_FL;
        if (ioctl(fd, FS_IOC_SETFLAGS, &flags) != 0) return refused("FS_IOC_SETFLAGS");
        puts("ok");
        return 0;
    }
    if (argc >= 5 && strcmp(argv[1], "setlimit") == 0) {
        struct if_dqblk q;
        memset(&q, 0, sizeof q);
        q.dqb_valid = QIF_BLIMITS;
        q.dqb_bhardlimit = q.dqb_bsoftlimit = strtoull(argv[4], 0, 10);
        if (syscall(SYS_quotactl_fd, open_path(argv[2]), QCMD(Q_SETQUOTA, PRJQUOTA), (unsigned)strtoul(argv[3], 0, 10),
                    &q) != 0)
            return refused("Q_SETQUOTA");
        puts("ok");
        return 0;
    }
    fprintf(stderr, "usage: aj_vm_quota projid PATH | usage DIR ID | setprojid PATH ID | noinherit PATH | setlimit DIR ID KIB\n");
    return 2;
}
