/* Per-system-call cost, for bench/compare.sh: times N calls of a few cheap system calls and
 * prints one line per call, "NAME NS_PER_CALL ns/call".
 *
 *   syscall_cost [N]        N calls of each (default 2000000), in 200 rounds of N/200
 *
 * The calls are chosen by where they end in aurora-jail's seccomp filter (a binary search
 * tree over syscall numbers that libseccomp builds; see `aurora-jail policy compile`):
 *   getppid   nr 110: down the tree to a leaf that compares four numbers, then allow;
 *   read0     nr 0, read of 0 bytes from a pipe: the shortest path (two compares);
 *   ioctl     nr 16, FIONREAD on fd -1: the filter also compares the request argument
 *             (the TIOCSTI/TIOCLINUX rules), and the kernel answers EBADF at once;
 *   denied    nr 212, lookup_dcookie: refused by the default deny set, so under aurora-jail
 *             the cost of a refusal (a round trip to the runner's denial supervisor);
 *             bare, the kernel fails it at once (ENOSYS, or EINVAL/EPERM where it still
 *             exists). Made N/100 times: a refusal costs microseconds, not nanoseconds.
 * Each is made with syscall(2) so no C library cache can answer it. The figure is the best
 * of 200 short rounds (10,000 calls, ~2 ms, by default): on a shared machine load only ever
 * adds time, and a round shorter than a scheduler time slice often runs undisturbed (with
 * 3 long rounds the figure moved by +-30% from run to run here; with 200 short ones, 1%).
 * Built static (cc -static -O2) so that it runs inside any sandbox that can see its file. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int pipe_rd = -1;

/* Each returns 0 when the call behaved as expected, so a sandbox that refuses it shows up
 * as an error instead of a fast but meaningless number. */
static int call_getppid(void) { return syscall(SYS_getppid) > 0 ? 0 : -1; }
static int call_read0(void) {
  char c;
  return syscall(SYS_read, pipe_rd, &c, 0) == 0 ? 0 : -1;
}
static int call_ioctl(void) {
  int n;
  return (syscall(SYS_ioctl, -1, FIONREAD, &n) == -1 && errno == EBADF) ? 0 : -1;
}
static int call_denied(void) { return syscall(SYS_lookup_dcookie, 0UL, NULL, 0UL) == -1 ? 0 : -1; }

enum { kRounds = 200 };

struct bench {
  const char *name;
  int (*call)(void);
  long divisor; /* makes N / divisor calls */
};

static const struct bench benches[] = {
    {"getppid", call_getppid, 1},
    {"read0", call_read0, 1},
    {"ioctl", call_ioctl, 1},
    {"denied", call_denied, 100},
};

int main(int argc, char **argv) {
  long n = 2000000;
  if (argc > 2) {
    fprintf(stderr, "usage: %s [N]\n", argv[0]);
    return 2;
  }
  if (argc == 2) {
    char *end;
    errno = 0;
    n = strtol(argv[1], &end, 10);
    if (errno || *end || n < kRounds || n > 1000000000L) {
      fprintf(stderr, "syscall_cost: N must be 200..1000000000, got \"%s\"\n", argv[1]);
      return 2;
    }
  }
  int fds[2];
  if (pipe(fds) != 0) {
    fprintf(stderr, "syscall_cost: pipe: %s\n", strerror(errno));
    return 1;
  }
  pipe_rd = fds[0];
  for (size_t b = 0; b < sizeof benches / sizeof benches[0]; b++) {
    /* A failing call is reported once, before any timing. */
    if (benches[b].call() != 0) {
      fprintf(stderr, "syscall_cost: %s: unexpected result (%s)\n", benches[b].name, strerror(errno));
      return 1;
    }
    double best = 0;
    long per_round = n / benches[b].divisor / kRounds;
    if (per_round < 1) per_round = 1;
    for (int round = 0; round < kRounds; round++) {
      double t0 = now_ns();
      for (long i = 0; i < per_round; i++) benches[b].call();
      double per = (now_ns() - t0) / (double)per_round;
      if (round == 0 || per < best) best = per;
    }
    printf("%s %.1f ns/call\n", benches[b].name, best);
  }
  return 0;
}
