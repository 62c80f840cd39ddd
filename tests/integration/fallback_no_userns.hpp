// A host where namespace creation is refused, made for real the way container runtimes
// do it: a seccomp filter that fails clone/unshare carrying namespace flags with EPERM,
// and clone3 (whose flags a filter cannot read) with ENOSYS, so libc falls back to clone.
//
// The test binary doubles as the wrapper: run_process({self, kWrapperFlag, PROGRAM, ARGS})
// re-executes it; a static initializer (before gtest's main) installs the filter and execs
// PROGRAM. Include this header in exactly one translation unit per test binary.
//
// with_clone3_eperm() makes the other kind of host some container runtimes give: only
// clone3 refused, with EPERM rather than ENOSYS, so the C library does not fall back to
// clone for new threads.
#pragma once

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

namespace aj::test {

inline constexpr const char* kWrapperFlag = "--aj-exec-without-namespaces";
inline constexpr const char* kClone3EpermFlag = "--aj-exec-clone3-eperm";

inline std::string self_exe() {
    char buf[4096];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return {};
    return std::string(buf, static_cast<std::size_t>(n));
}

// argv for running `args` on a host without namespaces.
inline std::vector<std::string> without_namespaces(std::vector<std::string> args) {
    args.insert(args.begin(), {self_exe(), kWrapperFlag});
    return args;
}

// argv for running `args` where clone3 fails with EPERM (and nothing else is refused).
inline std::vector<std::string> with_clone3_eperm(std::vector<std::string> args) {
    args.insert(args.begin(), {self_exe(), kClone3EpermFlag});
    return args;
}

namespace detail {

[[noreturn]] inline void wrapper_fail(const char* what, int err) {
    std::fprintf(stderr, "no-namespaces wrapper: %s: errno %d\n", what, err);
    ::_exit(125);
}

inline int run_wrapper_if_asked() {
    int fd = ::open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    std::string cmdline;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) cmdline.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    std::vector<std::string> args;
    for (std::size_t pos = 0; pos < cmdline.size();) {
        std::size_t end = cmdline.find('\0', pos);
        if (end == std::string::npos) end = cmdline.size();
        args.push_back(cmdline.substr(pos, end - pos));
        pos = end + 1;
    }
    if (args.size() < 3 || (args[1] != kWrapperFlag && args[1] != kClone3EpermFlag)) return 0;
    const bool clone3_eperm_only = args[1] == kClone3EpermFlag;

    const long ns_flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC |
                          CLONE_NEWUTS | CLONE_NEWCGROUP;
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx) wrapper_fail("seccomp_init", ENOMEM);
    int rc = 0;
    // Each namespace flag as its own rule: SCMP_CMP_MASKED_EQ matches one bit pattern.
    for (long bit = 1; !clone3_eperm_only && bit != 0 && bit <= ns_flags; bit <<= 1) {
        if (!(ns_flags & bit)) continue;
        auto b = static_cast<scmp_datum_t>(bit);
        rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, b, b));
        rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, b, b));
        rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(setns), 0);
    }
    rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(clone3_eperm_only ? EPERM : ENOSYS), SCMP_SYS(clone3), 0);
    if (rc != 0) wrapper_fail("seccomp_rule_add", -rc);
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) wrapper_fail("no_new_privs", errno);
    if ((rc = seccomp_load(ctx)) != 0) wrapper_fail("seccomp_load", -rc);
    seccomp_release(ctx);
    std::vector<char*> argv;
    for (std::size_t i = 2; i < args.size(); ++i) argv.push_back(args[i].data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    wrapper_fail("execv", errno);
}

inline const int wrapper_hook = run_wrapper_if_asked();

}  // namespace detail
}  // namespace aj::test
