#include "policy/default_deny.hpp"

#include <linux/fs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/personality.h>

namespace aj::policy {

const std::vector<std::string_view>& default_deny_entries() {
    static const std::vector<std::string_view> entries = {
        // whole groups
        "@mount", "@module", "@reboot", "@swap", "@raw-io", "@obsolete", "@keyring",
        "@clock", "@namespaces",
        // kernel attack surface an unprivileged process can still reach
        "bpf", "perf_event_open", "userfaultfd", "lookup_dcookie",
        // escaping the file system view
        "open_by_handle_at", "name_to_handle_at", "pivot_root", "chroot",
        // other processes' memory
        "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd",
        // host-wide administration
        "kexec_load", "kexec_file_load", "acct", "quotactl", "quotactl_fd", "nfsservctl",
        "syslog", "vhangup", "iopl", "ioperm",
        // io_uring performs file and network operations without system calls, where no
        // seccomp rule can see them (a policy blocking connect would be bypassed), and it
        // has been a steady source of kernel privilege escalations.
        "io_uring_setup", "io_uring_enter", "io_uring_register",
    };
    return entries;
}

const std::vector<ArgRule>& default_arg_rules() {
    static const std::vector<ArgRule> rules = {
        // Faking terminal input (TIOCSTI) and the Linux console's selection/paste
        // (TIOCLINUX) let a sandboxed process type commands into the caller's shell.
        // A file's project id and PROJINHERIT flag (FS_IOC_FSSETXATTR; FS_IOC_SETFLAGS
        // clears FS_PROJINHERIT_FL too) would move what the sandbox writes out of the
        // project quota holding its disk budget: inside a user namespace the kernel
        // refuses that, but in the rlimit-only fallback the sandbox owns its files in the
        // initial namespace, where an owner may (helper/project_quota.hpp).
        {"ioctl", 1, ArgRule::Kind::BlockValues,
         {static_cast<std::uint32_t>(TIOCSTI), static_cast<std::uint32_t>(TIOCLINUX),
          static_cast<std::uint32_t>(FS_IOC_FSSETXATTR), static_cast<std::uint32_t>(FS_IOC_SETFLAGS),
          static_cast<std::uint32_t>(FS_IOC32_SETFLAGS)}},
        // Execution domains other than the default re-enable legacy behaviour such as
        // READ_IMPLIES_EXEC or a fixed address layout (ADDR_NO_RANDOMIZE). The 0xffffffff
        // query is refused too: allowing it costs 62 comparisons in libseccomp's
        // one-comparison-per-argument form, and programs treat its failure as "unknown".
        {"personality", 0, ArgRule::Kind::AllowOnlyValues, {PER_LINUX}},
        // New namespaces: the kernel's largest attack surface for unprivileged users.
        // (CLONE_NEWTIME shares its bit with CSIGNAL in clone(); unshare is blocked.)
        {"clone", 0, ArgRule::Kind::BlockAnyBit, {},
         CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
             CLONE_NEWPID | CLONE_NEWNET},
    };
    return rules;
}

}  // namespace aj::policy
