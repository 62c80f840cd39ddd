#include "oci/exec_process.hpp"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <sstream>

#include "helper/channel.hpp"
#include "helper/exec.hpp"
#include "helper/fds.hpp"
#include "helper/seccomp_load.hpp"
#include "helper/signal_reset.hpp"
#include "helper/userns.hpp"
#include "helper/userns_quotas.hpp"
#include "policy/error.hpp"
#include "policy/sys.hpp"

namespace aj::oci {

namespace {

// Every namespace but pid (the caller's setns placed its children there already).
constexpr int kJoinedNamespaces = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET |
                                  CLONE_NEWCGROUP;

// "0" into cgroup.procs moves the writer itself.
void join_cgroups(const ExecPlan& plan) {
    for (const std::string& dir : plan.cgroup_dirs) {
        const sys::UniqueFd procs = sys::open_fd(dir + "/cgroup.procs", O_WRONLY | O_NOFOLLOW | O_CLOEXEC,
                                                 "joining the container's cgroup " + dir);
        sys::write_all(procs.get(), "0", "joining the container's cgroup " + dir);
    }
    const std::vector<std::string> own = limiting_cgroup_lines(sys::read_file("/proc/self/cgroup", 1 << 16));
    if (own != plan.cgroup_lines) {
        std::string want, got;
        for (const auto& l : plan.cgroup_lines) want += " " + l;
        for (const auto& l : own) got += " " + l;
        throw Error("joining the container's cgroups: in" + got + ", not in" + want);
    }
}

// PID 1's score, unless it is lower than this process's floor (oom_score_adj_min: only
// CAP_SYS_RESOURCE goes below it, EACCES): this process is then more killable than PID 1.
void take_oom_score(const ExecPlan& plan) {
    if (plan.oom_score_adj.empty()) return;
    const sys::UniqueFd fd = sys::open_fd("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC, "opening oom_score_adj");
    if (sys::retry_eintr([&] { return ::write(fd.get(), plan.oom_score_adj.data(), plan.oom_score_adj.size()); }) < 0 &&
        errno != EACCES)
        throw_errno("writing oom_score_adj " + plan.oom_score_adj);
}

// Step 4b: inside the container's mount namespace, before the uid switch. devpts gives a
// new slave the opener's fs ids, and this process is still the caller (host root for a
// root caller), which the container's user namespace need not map: the slave would show
// as the overflow id, and no fchown could change it (EPERM: its owner is unmapped). Taking
// the process's ids as fs ids first makes the slave the process's from the start.
void take_container_terminal(const ExecPlan& plan, int terminal_fd) {
    // setfsuid/setfsgid report no error: the ids read back tell whether they were taken.
    (void)::setfsgid(plan.gid);
    (void)::setfsuid(plan.uid);
    if (::setfsgid(static_cast<gid_t>(-1)) != static_cast<int>(plan.gid) ||
        ::setfsuid(static_cast<uid_t>(-1)) != static_cast<int>(plan.uid))
        throw Error("taking the process's ids " + std::to_string(plan.uid) + ":" + std::to_string(plan.gid) +
                    " for its terminal (setfsuid/setfsgid)");
    helper::PtyPair pty = make_container_pty(*plan.terminal);
    if (!helper::send_fd_message(terminal_fd, helper::MessageKind::Terminal, pty.master.get()))
        throw_errno("sending the terminal's master to exec");
    pty.master.reset();
    const int slave[3] = {pty.slave.get(), pty.slave.get(), pty.slave.get()};
    helper::install_stdio(slave);
    // A session of its own: the caller's controlling terminal (an engine's, a shell's) is
    // left behind, and the container's terminal becomes this one's.
    sys::check(::setsid(), "setsid");
    sys::check(::ioctl(0, TIOCSCTTY, 0), "making the terminal controlling (TIOCSCTTY)");
}

void report(int error_fd, int exit_code, const std::string& message) {
    const std::string line = std::to_string(exit_code) + " " + message + "\n";
    (void)!::write(error_fd, line.data(), line.size());
}

}  // namespace

std::vector<std::string> limiting_cgroup_lines(const std::string& proc_cgroup) {
    std::vector<std::string> lines;
    std::istringstream in(proc_cgroup);
    for (std::string line; std::getline(in, line);) {
        const std::size_t first = line.find(':');
        const std::size_t second = first == std::string::npos ? std::string::npos : line.find(':', first + 1);
        if (second == std::string::npos) continue;
        const std::string controllers = line.substr(first + 1, second - first - 1);
        const bool v2 = line.substr(0, first) == "0" && controllers.empty();
        if (v2 || (!controllers.empty() && !controllers.starts_with("name="))) lines.push_back(line);
    }
    std::sort(lines.begin(), lines.end());
    return lines;
}

void run_exec_process(const ExecPlan& plan, int pid1_fd, int error_fd, int terminal_fd) {
    try {
        sys::check(::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "PR_SET_DUMPABLE 0");
        helper::drop_supplementary_groups_if_root();
        join_cgroups(plan);
        take_oom_score(plan);
        sys::check(::setns(pid1_fd, kJoinedNamespaces), "joining the container's namespaces (setns)");
        if (plan.terminal) take_container_terminal(plan, terminal_fd);
        if (!plan.additional_gids.empty())
            sys::check(::setgroups(plan.additional_gids.size(), plan.additional_gids.data()),
                       "setgroups (process.user.additionalGids)");
        sys::check(::setresgid(plan.gid, plan.gid, plan.gid), "setresgid " + std::to_string(plan.gid));
        sys::check(::setresuid(plan.uid, plan.uid, plan.uid), "setresuid " + std::to_string(plan.uid));
        // The uid switch set the flag to fs.suid_dumpable, which a host may have set to 1.
        sys::check(::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "PR_SET_DUMPABLE 0");
        sys::check(::chdir(plan.cwd.c_str()), "chdir " + plan.cwd);
        helper::apply_rlimits(plan.rlimits);
        helper::apply_quota_rlimits();
        helper::apply_requested_rlimits(plan.requested_rlimits);
        if (plan.umask) ::umask(*plan.umask);
        helper::set_kept_capabilities(plan.capabilities);
        if (plan.no_new_privs) sys::check(::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "PR_SET_NO_NEW_PRIVS");
        sigset_t none;
        sigemptyset(&none);
        sys::check(::sigprocmask(SIG_SETMASK, &none, nullptr), "unblocking signals");
        helper::reset_ignored_signals();
        // The pidfd, the error pipe and anything else above 2 close at execve.
        sys::check(::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC), "close_range CLOEXEC");
        // Last: the filter may refuse any call but execve. Without no_new_privs the kernel
        // takes it from a holder of CAP_SYS_ADMIN in this user namespace, which this
        // process still is until execve recomputes its sets.
        const sys::UniqueFd listener = helper::load_seccomp(plan.seccomp);
        if (listener) {  // a kernel-delivered program has none: never run with a filter no one answers
            report(error_fd, kExitInternal, "the container's seccomp program asked for a listener");
            ::_exit(kExitInternal);
        }
        // The config's profile on top (it has no listener: SCMP_ACT_NOTIFY is refused).
        if (plan.profile) (void)helper::load_seccomp(*plan.profile);
        const int err = helper::exec_command(plan.argv, plan.env);
        report(error_fd, helper::exit_code_for_exec_errno(err),
               "exec: \"" + plan.argv.at(0) + "\": " +
                   (err == ENOENT ? std::string("executable file not found in $PATH") : std::strerror(err)));
        ::_exit(helper::exit_code_for_exec_errno(err));
    } catch (const std::exception& e) {
        report(error_fd, kExitInternal, e.what());
    }
    ::_exit(kExitInternal);
}

}  // namespace aj::oci
