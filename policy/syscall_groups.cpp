// The one data table of syscall groups. Membership follows systemd's documented groups
// (systemd.exec(5), SystemCallFilter=); written here as plain data, sorted by group.
#include "policy/syscall_groups.hpp"

namespace aj::policy {

const std::vector<SyscallGroup>& syscall_groups() {
    static const std::vector<SyscallGroup> groups = {
        {"@chown", "changing file ownership",
         {"chown", "chown32", "fchown", "fchown32", "fchownat", "lchown", "lchown32"}},
        {"@clock", "setting the system clock",
         {"adjtimex", "clock_adjtime", "clock_adjtime64", "clock_settime", "clock_settime64",
          "settimeofday", "stime"}},
        {"@cpu-emulation", "CPU emulation (vm86, LDT changes)",
         {"modify_ldt", "subpage_prot", "switch_endian", "vm86", "vm86old"}},
        {"@debug", "debugging, tracing and profiling other processes",
         {"lookup_dcookie", "perf_event_open", "pidfd_getfd", "ptrace", "rtas",
          "s390_runtime_instr", "sys_debug_setcontext"}},
        {"@keyring", "the kernel keyring",
         {"add_key", "keyctl", "request_key"}},
        {"@module", "loading and unloading kernel modules",
         {"delete_module", "finit_module", "init_module"}},
        {"@mount", "mounting and unmounting file systems, incl. the new mount API",
         {"chroot", "fsconfig", "fsmount", "fsopen", "fspick", "mount", "mount_setattr",
          "move_mount", "open_tree", "pivot_root", "umount", "umount2"}},
        {"@namespaces", "creating and joining namespaces (not clone: see the default deny set)",
         {"setns", "unshare"}},
        {"@obsolete", "unusual, obsolete or unimplemented calls",
         {"_sysctl", "afs_syscall", "bdflush", "break", "create_module", "ftime",
          "get_kernel_syms", "getpmsg", "gtty", "idle", "lock", "mpx", "prof", "profil",
          "putpmsg", "query_module", "security", "sgetmask", "ssetmask", "stime", "stty",
          "sysfs", "tuxcall", "ulimit", "uselib", "ustat", "vserver"}},
        {"@privileged", "calls that need super-user capabilities",
         {"@chown", "@clock", "@module", "@raw-io", "@reboot", "@swap", "_sysctl", "acct",
          "bpf", "capset", "chroot", "fanotify_init", "nfsservctl",
          "open_by_handle_at", "pivot_root", "quotactl", "quotactl_fd", "setdomainname",
          "setfsuid", "setfsuid32", "setgroups", "setgroups32", "sethostname", "setresuid",
          "setresuid32", "setreuid", "setreuid32", "setuid", "setuid32", "vhangup"}},
        {"@raw-io", "raw I/O port access",
         {"ioperm", "iopl", "pciconfig_iobase", "pciconfig_read", "pciconfig_write",
          "s390_pci_mmio_read", "s390_pci_mmio_write"}},
        {"@reboot", "rebooting and preparing a reboot",
         {"kexec_file_load", "kexec_load", "reboot"}},
        {"@resources", "changing resource limits, priorities and memory policy",
         {"ioprio_set", "mbind", "migrate_pages", "move_pages", "nice", "sched_setaffinity",
          "sched_setattr", "sched_setparam", "sched_setscheduler", "set_mempolicy",
          "set_mempolicy_home_node", "setpriority", "setrlimit"}},
        {"@setuid", "changing user and group credentials",
         {"setgid", "setgid32", "setgroups", "setgroups32", "setregid", "setregid32",
          "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32",
          "setuid", "setuid32"}},
        {"@swap", "enabling and disabling swap devices",
         {"swapoff", "swapon"}},
    };
    return groups;
}

const SyscallGroup* find_syscall_group(std::string_view name) {
    for (const auto& g : syscall_groups())
        if (g.name == name) return &g;
    return nullptr;
}

std::vector<std::string> syscall_group_names() {
    std::vector<std::string> names;
    for (const auto& g : syscall_groups()) names.emplace_back(g.name);
    return names;
}

}  // namespace aj::policy
