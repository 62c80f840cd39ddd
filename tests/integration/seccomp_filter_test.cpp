// The compiled filter on the real kernel: each test loads it in a forked child
// (no_new_privs, then seccomp(SECCOMP_SET_MODE_FILTER)) and makes the call. Refusals
// use a policy errno the kernel itself never returns for these calls (ENOANO), so an
// assertion only passes when the filter, not the kernel, answered.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>

#include "policy/parse.hpp"
#include "policy/seccomp_compile.hpp"
#include "tests/support/under_asan.hpp"

namespace aj::policy {
namespace {

constexpr int kSucceeded = 200;   // child exit code: the call was not refused
constexpr int kSetupFailed = 201;
constexpr int kKilledBySigsys = 128 + SIGSYS;

// Runs body in a child under `policy_json`'s filter (or none when empty); returns the
// child's exit code, or 128+N when a signal killed it.
// Under AddressSanitizer (tests/support/under_asan.hpp) the tests that sweep every policy
// mode in-process run in the release tree only: ASan's own refused calls overwrite errno.
#ifdef AJ_UNDER_ASAN
#define AJ_SKIP_UNDER_ASAN() GTEST_SKIP() << "every-mode sweep in-process: ASan's own calls overwrite errno under an allow-list"
#else
#define AJ_SKIP_UNDER_ASAN() (void)0
#endif

int in_child(const std::string& policy_json, const std::function<int()>& body) {
    SeccompProgram prog;
    if (!policy_json.empty()) prog = compile_seccomp(parse_policy(policy_json, "test policy"));
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        rlimit no_core{0, 0};
        setrlimit(RLIMIT_CORE, &no_core);   // SIGSYS would otherwise dump core
        if (!policy_json.empty()) {
            sock_fprog fprog{static_cast<unsigned short>(prog.instructions.size()), prog.instructions.data()};
            if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(kSetupFailed);
            if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) != 0) _exit(kSetupFailed);
        }
        _exit(body());
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

// The errno of a failed raw call, or kSucceeded.
int outcome(long rc) { return rc == -1 ? errno : kSucceeded; }

// A call that made a child (clone without a stack) must not run test code in it.
int outcome_of_clone(long rc) {
    if (rc == 0) _exit(0);
    if (rc > 0) {
        waitpid(static_cast<pid_t>(rc), nullptr, 0);
        return kSucceeded;
    }
    return errno;
}

const std::string kDenyEnoano = R"({"blocked_action": {"action": "errno", "errno": "ENOANO"}})";
const std::string kDenyKill = R"({"blocked_action": "kill"})";
const std::string kLog = R"({"blocked_action": "log"})";

TEST(SeccompFilter, BlockedCallFailsWithTheConfiguredErrno) {
    const std::string policy = R"({"blocked_syscalls": ["getppid"], "blocked_action": {"action": "errno", "errno": "EACCES"}})";
    EXPECT_EQ(in_child("", [] { return outcome(syscall(SYS_getppid)); }), kSucceeded);
    EXPECT_EQ(in_child(policy, [] { return outcome(syscall(SYS_getppid)); }), EACCES);
    // A group entry works the same way.
    EXPECT_EQ(in_child(R"({"blocked_syscalls": ["@resources"], "blocked_action": {"action": "errno", "errno": "EACCES"}})",
                       [] { return outcome(syscall(SYS_setpriority, PRIO_PROCESS, 0, 19)); }),
              EACCES);
}

TEST(SeccompFilter, KillActionKillsWithSigsys) {
    EXPECT_EQ(in_child(R"({"blocked_syscalls": ["getppid"], "blocked_action": "kill"})",
                       [] { return outcome(syscall(SYS_getppid)); }),
              kKilledBySigsys);
}

TEST(SeccompFilter, AllowedCallsWork) {
    EXPECT_EQ(in_child(kDenyKill, [] {
                  if (syscall(SYS_getpid) != getpid()) return 1;
                  if (write(STDERR_FILENO, "", 0) != 0) return 2;
                  int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                  if (fd < 0) return 3;
                  close(fd);
                  return 0;
              }),
              0);
}

TEST(SeccompFilter, AllowListRunsASimpleProgramAndRefusesTheRest) {
    // What a dynamically linked /bin/true and this forking child need, and no more.
    const std::string policy = R"({
      "allowed_syscalls": ["execve", "brk", "mmap", "munmap", "mprotect", "arch_prctl",
        "set_tid_address", "set_robust_list", "rseq", "prlimit64", "getrandom", "access",
        "openat", "newfstatat", "fstat", "read", "pread64", "write", "close", "exit",
        "exit_group", "clone", "wait4", "rt_sigaction", "rt_sigprocmask", "getpid", "gettid",
        "madvise", "futex", "sigaltstack", "sched_yield", "getuid", "readlink", "uname"],
      "blocked_action": "kill"})";
    auto fork_exec_true = [] {
        pid_t child = fork();
        if (child < 0) return 10;
        if (child == 0) {
            char* const argv[] = {const_cast<char*>("true"), nullptr};
            char* const envp[] = {nullptr};
            execve("/bin/true", argv, envp);
            _exit(11);
        }
        int status = 0;
        if (waitpid(child, &status, 0) != child) return 12;
        if (!WIFEXITED(status)) return 128 + WTERMSIG(status);
        return WEXITSTATUS(status);
    };
    EXPECT_EQ(in_child(policy, fork_exec_true), 0);
    // Everything unlisted gets the action, here: kill.
    EXPECT_EQ(in_child(policy, [] { return outcome(syscall(SYS_getppid)); }), kKilledBySigsys);
}

TEST(SeccompFilter, AllowListKeepsArgumentRulesOnListedCalls) {
    // The calls after exit_group are for the sanitizer runtimes, which wrap _exit.
    const std::string policy = R"({
      "allowed_syscalls": ["execve", "ioctl", "clone", "personality", "exit_group", "exit", "wait4",
        "sigaltstack", "gettid", "getpid", "write", "mmap", "munmap", "madvise", "rt_sigprocmask",
        "sched_yield", "futex", "prctl", "getrlimit", "prlimit64"],
      "blocked_action": {"action": "errno", "errno": "ENOANO"}})";
    EXPECT_EQ(in_child(policy, [] { return outcome(syscall(SYS_ioctl, 0, TIOCSTI | (1ULL << 32), "x")); }), ENOANO);
    EXPECT_EQ(in_child(policy, [] { return outcome(syscall(SYS_ioctl, -1, TCGETS, nullptr)); }), EBADF);
    EXPECT_EQ(in_child(policy, [] { return outcome_of_clone(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0)); }),
              ENOANO);
    EXPECT_EQ(in_child(policy, [] { return outcome_of_clone(syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0)); }), kSucceeded);
    EXPECT_EQ(in_child(policy, [] { return outcome(syscall(SYS_personality, ADDR_NO_RANDOMIZE)); }), ENOANO);
    EXPECT_EQ(in_child(policy, [] { return outcome(syscall(SYS_clone3, nullptr, 0)); }), ENOSYS);
}

// int 0x80 with eax = nr: the i386 entry point, which a filter for x86_64 alone must
// not let through. getpid is 20 on i386.
long int80(long nr) {
    long ret;
    asm volatile("int $0x80" : "=a"(ret) : "a"(nr) : "memory", "r8", "r9", "r10", "r11");
    return ret;
}

TEST(SeccompFilter, I386CallsThroughInt80AreKilled) {
    int plain = in_child("", [] { return int80(20) == getpid() ? kSucceeded : 1; });
    if (plain != kSucceeded) GTEST_SKIP() << "this kernel has no i386 emulation (int 0x80 gave " << plain << ")";
    EXPECT_EQ(in_child(kDenyEnoano, [] { return int80(20) == getpid() ? kSucceeded : 1; }), kKilledBySigsys);
    // i386 ptrace (26) is the blocked call the ABI switch would smuggle past a deny-list.
    EXPECT_EQ(in_child(kDenyEnoano, [] { return int80(26) < 0 ? 1 : kSucceeded; }), kKilledBySigsys);
}

TEST(SeccompFilter, X32CallsAreKilled) {
    constexpr long kX32 = 0x40000000;
    // Whether or not this kernel has the x32 ABI, the filter must kill before dispatch.
    EXPECT_EQ(in_child(kDenyEnoano, [] { return outcome(syscall(kX32 | SYS_getpid)); }), kKilledBySigsys);
    EXPECT_EQ(in_child(kDenyEnoano, [] { return outcome(syscall(kX32 | SYS_getppid)); }), kKilledBySigsys);
    // The whole process dies, not just the calling thread (SCMP_ACT_KILL_PROCESS as the
    // bad-architecture action): a thread cannot be sacrificed to probe the filter. The
    // thread also proves pthread_create works (clone3 -> ENOSYS -> clone fallback).
    EXPECT_EQ(in_child(kDenyEnoano, [] {
                  std::thread t([] { syscall(kX32 | SYS_getpid); });
                  t.join();
                  return kSucceeded;
              }),
              kKilledBySigsys);
    EXPECT_EQ(in_child(kDenyEnoano, [] {
                  std::thread t([] {});
                  t.join();
                  return kSucceeded;
              }),
              kSucceeded);
}

TEST(SeccompFilter, TiocstiRefusedEvenWithHighBitsSet) {
    auto ioctl_on_null = [](unsigned long long cmd) {
        return [cmd] {
            int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
            char c = 'x';
            return outcome(syscall(SYS_ioctl, fd, cmd, &c));
        };
    };
    EXPECT_EQ(in_child(kDenyEnoano, ioctl_on_null(TIOCSTI)), ENOANO);
    // CVE-2019-10063: the kernel ignores the upper 32 bits of cmd; the filter must too.
    EXPECT_EQ(in_child(kDenyEnoano, ioctl_on_null(TIOCSTI | (1ULL << 32))), ENOANO);
    EXPECT_EQ(in_child(kDenyEnoano, ioctl_on_null(TIOCSTI | 0xffffffff00000000ULL)), ENOANO);
    EXPECT_EQ(in_child(kDenyEnoano, ioctl_on_null(TIOCLINUX)), ENOANO);
    // Other ioctls still reach the kernel (which says /dev/null is not a tty).
    EXPECT_EQ(in_child(kDenyEnoano, ioctl_on_null(TCGETS)), ENOTTY);
}

TEST(SeccompFilter, ProjectIdAndFlagChangesRefused) {
    // What would move a sandbox's files out of its project quota (helper/project_quota.hpp);
    // vm.project_quota shows it on a file system with project quotas.
    // On /dev/null, which has no such attributes: should the filter let one through,
    // the kernel refuses it (ENOTTY) and nothing of the host changes.
    auto ioctl_on_null = [](unsigned long long cmd) {
        return [cmd] {
            const int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
            std::array<char, 64> arg{};
            return outcome(syscall(SYS_ioctl, fd, cmd, arg.data()));
        };
    };
    EXPECT_EQ(in_child(kDenyEnoano, ioctl_on_null(FS_IOC_FSSETXATTR)), ENOANO);
    EXPECT_EQ(in_child(kDenyEnoano, ioctl_on_null(FS_IOC_FSSETXATTR | (1ULL << 32))), ENOANO);
    EXPECT_EQ(in_child(kDenyEnoano, ioctl_on_null(FS_IOC_SETFLAGS)), ENOANO);
    EXPECT_EQ(in_child(kDenyEnoano, ioctl_on_null(FS_IOC32_SETFLAGS)), ENOANO);
    // Reading them stays allowed (lsattr).
    EXPECT_NE(in_child(kDenyEnoano, ioctl_on_null(FS_IOC_FSGETXATTR)), ENOANO);
    EXPECT_NE(in_child(kDenyEnoano, ioctl_on_null(FS_IOC_GETFLAGS)), ENOANO);
}

TEST(SeccompFilter, Clone3GetsEnosysWhateverTheAction) {
    EXPECT_EQ(in_child("", [] { return outcome(syscall(SYS_clone3, nullptr, 0)); }), EINVAL);
    EXPECT_EQ(in_child(kDenyEnoano, [] { return outcome(syscall(SYS_clone3, nullptr, 0)); }), ENOSYS);
    EXPECT_EQ(in_child(kDenyKill, [] { return outcome(syscall(SYS_clone3, nullptr, 0)); }), ENOSYS);
    // "log" too (docs/policy.md): the program takes the clone path it takes when enforced.
    EXPECT_EQ(in_child(kLog, [] { return outcome(syscall(SYS_clone3, nullptr, 0)); }), ENOSYS);
    // Without the default set, clone3 is the policy's to name.
    EXPECT_EQ(in_child(R"({"default_deny": false})", [] { return outcome(syscall(SYS_clone3, nullptr, 0)); }), EINVAL);
    EXPECT_EQ(in_child(R"({"default_deny": false, "blocked_syscalls": ["clone3"], "blocked_action": "log"})",
                       [] { return outcome(syscall(SYS_clone3, nullptr, 0)); }),
              ENOSYS);
}

// Every policy mode the filter compiler has.
const std::vector<std::string> kEveryMode = {
    "{}", kDenyEnoano, kDenyKill, kLog, R"({"default_deny": false})",
    R"({"default_deny": false, "blocked_action": "log"})",
    R"({"allowed_syscalls": ["execve", "exit_group", "chmod", "fchmod", "fchmodat", "openat", "open", "mkdir",
        "mknod", "creat", "close", "unlinkat", "unlink", "rmdir"], "blocked_action": "log"})",
    R"({"allowed_syscalls": ["execve", "exit_group", "chmod", "fchmod", "fchmodat", "openat", "open", "mkdir",
        "mknod", "creat", "close", "unlink", "rmdir"], "default_deny": false})",
    R"({"blocked_syscalls": ["chmod", "openat", "mkdir"], "blocked_action": "log"})",
};

// A number above the newest libseccomp 2.5.4 knows (456) that this kernel has: what the
// kernel answers it without a filter must not be ENOSYS, or nothing would be proved.
long newer_call_this_kernel_has() {
    for (long nr = 467; nr > 456; --nr)
        if (in_child("", [nr] { return outcome(syscall(nr, -1, nullptr, 0, 0, 0, 0)); }) != ENOSYS) return nr;
    return -1;
}

TEST(SeccompFilter, NumbersNewerThanTheCompilerGetEnosysInEveryMode) {
    AJ_SKIP_UNDER_ASAN();
    const long newer = newer_call_this_kernel_has();
    if (newer < 0) GTEST_SKIP() << "this kernel has no system call numbered 457-467 to prove the rule with";
    for (const std::string& mode : kEveryMode) {
        SCOPED_TRACE(mode);
        EXPECT_EQ(in_child(mode, [newer] { return outcome(syscall(newer, -1, nullptr, 0, 0, 0, 0)); }), ENOSYS);
        EXPECT_EQ(in_child(mode, [] { return outcome(syscall(1000, 0, 0, 0, 0, 0, 0)); }), ENOSYS);
        // x32 numbers newer than the compiler (bit 30 set): ENOSYS too, not the kill the
        // x32 calls it knows get.
        EXPECT_EQ(in_child(mode, [newer] { return outcome(syscall(0x40000000L | newer)); }), ENOSYS);
        EXPECT_EQ(in_child(mode, [] { return outcome(syscall(0x40000000L | 600)); }), ENOSYS);
    }
}

TEST(SeccompFilter, I386NumbersNewerThanTheCompilerGetEnosys) {
    int plain = in_child("", [] { return int80(20) == getpid() ? kSucceeded : 1; });
    if (plain != kSucceeded) GTEST_SKIP() << "this kernel has no i386 emulation (int 0x80 gave " << plain << ")";
    for (const std::string& mode : {std::string("{}"), kDenyKill, kLog}) {
        SCOPED_TRACE(mode);
        EXPECT_EQ(in_child(mode, [] { return int80(467) == -ENOSYS ? kSucceeded : 1; }), kSucceeded);
        EXPECT_EQ(in_child(mode, [] { return int80(20) == getpid() ? kSucceeded : 1; }), kKilledBySigsys);
    }
}

// A file the child may chmod: created by the parent, removed afterwards.
class SetidFile {
public:
    SetidFile() {
        char tmpl[] = "/tmp/aj-setid-XXXXXX";
        if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp");
        dir = tmpl;
        file = dir + "/f";
        int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
        if (fd >= 0) close(fd);
    }
    ~SetidFile() { std::filesystem::remove_all(dir); }
    std::string dir, file;
};

TEST(SeccompFilter, SetidModesRefusedWithEpermInEveryMode) {
    AJ_SKIP_UNDER_ASAN();
    for (const std::string& mode : kEveryMode) {
        SCOPED_TRACE(mode);
        SetidFile t;
        const char* f = t.file.c_str();
        const std::string created = t.dir + "/new";
        const char* c = created.c_str();
        EXPECT_EQ(in_child(mode, [f] { return outcome(syscall(SYS_chmod, f, 04755)); }), EPERM);
        EXPECT_EQ(in_child(mode, [f] { return outcome(syscall(SYS_chmod, f, 02755)); }), EPERM);
        // High bits cannot hide the mode (the kernel reads a 16-bit umode_t).
        EXPECT_EQ(in_child(mode, [f] { return outcome(syscall(SYS_chmod, f, 0x100000000L | 04755)); }), EPERM);
        EXPECT_EQ(in_child(mode, [f] { return outcome(syscall(SYS_fchmodat, AT_FDCWD, f, 06755, 0)); }), EPERM);
        EXPECT_EQ(in_child(mode, [f] {
                      int fd = open(f, O_RDONLY | O_CLOEXEC);
                      return outcome(syscall(SYS_fchmod, fd, 04711));
                  }),
                  EPERM);
        EXPECT_EQ(in_child(mode, [c] { return outcome(syscall(SYS_openat, AT_FDCWD, c, O_WRONLY | O_CREAT, 04755)); }), EPERM);
        EXPECT_EQ(in_child(mode, [c] { return outcome(syscall(SYS_open, c, O_WRONLY | O_CREAT | O_EXCL, 02755)); }), EPERM);
        EXPECT_EQ(in_child(mode, [c] { return outcome(syscall(SYS_creat, c, 04755)); }), EPERM);
        EXPECT_EQ(in_child(mode, [c] { return outcome(syscall(SYS_mkdir, c, 02755)); }), EPERM);
        EXPECT_EQ(in_child(mode, [c] { return outcome(syscall(SYS_mknod, c, S_IFREG | 04755, 0)); }), EPERM);
        // openat2's mode is out of seccomp's sight: ENOSYS, so callers fall back to openat.
        EXPECT_EQ(in_child(mode, [c] {
                      open_how how{};
                      how.flags = O_WRONLY | O_CREAT;
                      how.mode = 04755;
                      return outcome(syscall(SYS_openat2, AT_FDCWD, c, &how, sizeof how));
                  }),
                  ENOSYS);
        struct stat st{};
        EXPECT_NE(stat(c, &st), 0) << "a set-id file was created: mode " << std::oct << st.st_mode;
        ASSERT_EQ(stat(f, &st), 0);
        EXPECT_EQ(st.st_mode & 07777, 0755u);
        // Plain modes still work, and a mode without O_CREAT is not the file's (the
        // kernel ignores it; runtimes may pass anything there).
        EXPECT_EQ(in_child(mode, [f] { return outcome(syscall(SYS_chmod, f, 0700)); }), kSucceeded);
        EXPECT_EQ(in_child(mode, [f] { return outcome(syscall(SYS_openat, AT_FDCWD, f, O_RDONLY, 04755)); }), kSucceeded);
        EXPECT_EQ(in_child(mode, [c] { return outcome(syscall(SYS_openat, AT_FDCWD, c, O_WRONLY | O_CREAT, 0644)); }),
                  kSucceeded);
    }
}

TEST(SeccompFilter, NamespaceCloneRefusedWhilePlainForkWorks) {
    auto clone_with = [](unsigned long long flags) {
        return [flags] { return outcome_of_clone(syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0)); };
    };
    EXPECT_EQ(in_child(kDenyEnoano, clone_with(CLONE_NEWUSER)), ENOANO);
    EXPECT_EQ(in_child(kDenyEnoano, clone_with(CLONE_NEWNS)), ENOANO);
    EXPECT_EQ(in_child(kDenyEnoano, clone_with(CLONE_NEWNET | (1ULL << 40))), ENOANO);
    EXPECT_EQ(in_child(kDenyEnoano, clone_with(0)), kSucceeded);
    EXPECT_EQ(in_child(kDenyEnoano, [] {
                  pid_t c = fork();
                  if (c == 0) _exit(7);
                  int status = 0;
                  return c > 0 && waitpid(c, &status, 0) == c && WEXITSTATUS(status) == 7 ? 0 : 1;
              }),
              0);
    EXPECT_EQ(in_child(kDenyEnoano, [] { return outcome(syscall(SYS_unshare, CLONE_NEWUSER)); }), ENOANO);
    EXPECT_EQ(in_child(kDenyEnoano, [] { return outcome(syscall(SYS_setns, -1, 0)); }), ENOANO);
}

TEST(SeccompFilter, PersonalityChangesRefused) {
    EXPECT_EQ(in_child(kDenyEnoano, [] { return outcome(syscall(SYS_personality, ADDR_NO_RANDOMIZE)); }), ENOANO);
    EXPECT_EQ(in_child(kDenyEnoano, [] { return outcome(syscall(SYS_personality, READ_IMPLIES_EXEC)); }), ENOANO);
    EXPECT_EQ(in_child(kDenyEnoano, [] { return outcome(syscall(SYS_personality, PER_LINUX)); }), kSucceeded);
}

TEST(SeccompFilter, MountApiRefused) {
    EXPECT_EQ(in_child(kDenyEnoano, [] { return outcome(syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, nullptr)); }), ENOANO);
    EXPECT_EQ(in_child(kDenyEnoano, [] { return outcome(syscall(SYS_fsopen, "tmpfs", 0)); }), ENOANO);
    EXPECT_EQ(in_child(kDenyEnoano, [] { return outcome(syscall(SYS_open_tree, AT_FDCWD, "/", 0)); }), ENOANO);
    EXPECT_EQ(in_child(kDenyEnoano, [] { return outcome(syscall(SYS_umount2, "/tmp", 0)); }), ENOANO);
}

TEST(SeccompFilter, OtherDefaultDenyCallsRefused) {
    for (long nr : {long{SYS_ptrace}, long{SYS_bpf}, long{SYS_perf_event_open}, long{SYS_userfaultfd},
                    long{SYS_keyctl}, long{SYS_add_key}, long{SYS_open_by_handle_at}, long{SYS_process_vm_readv},
                    long{SYS_kexec_load}, long{SYS_init_module}, long{SYS_chroot}, long{SYS_pivot_root},
                    long{SYS_iopl}, long{SYS_settimeofday}, long{SYS_syslog}, long{SYS_io_uring_setup},
                    long{SYS_io_uring_enter}, long{SYS_io_uring_register}}) {
        EXPECT_EQ(in_child(kDenyEnoano, [nr] { return outcome(syscall(nr, 0, 0, 0, 0, 0, 0)); }), ENOANO)
            << "syscall " << nr;
    }
}

TEST(SeccompFilter, DefaultDenyOffLeavesThemToTheKernel) {
    // With the default set off, only what the policy names is refused.
    const std::string policy = R"({"default_deny": false, "blocked_syscalls": ["getppid"],
                                   "blocked_action": {"action": "errno", "errno": "ENOANO"}})";
    EXPECT_NE(in_child(policy, [] { return outcome(syscall(SYS_fsopen, "tmpfs", 0)); }), ENOANO);
    EXPECT_EQ(in_child(policy, [] { return outcome(syscall(SYS_getppid)); }), ENOANO);
}

}  // namespace
}  // namespace aj::policy
