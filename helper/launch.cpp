// The launch sequence of docs/design.md, namespaces mode (its steps 1-7 are numbered
// below). Each step is a call into the file named after its facility; the order is the
// security argument, so it lives here alone.
#include "helper/launch.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>

#include "helper/caps.hpp"
#include "helper/cgroup_sandbox.hpp"
#include "helper/channel.hpp"
#include "helper/child_guard.hpp"
#include "helper/disk_budget.hpp"
#include "helper/env.hpp"
#include "helper/exec.hpp"
#include "helper/fds.hpp"
#include "helper/idmap.hpp"
#include "helper/init.hpp"
#include "helper/init_title.hpp"
#include "helper/limits_plan.hpp"
#include "helper/mount_plan.hpp"
#include "helper/mounts.hpp"
#include "helper/net.hpp"
#include "helper/notify_supervisor.hpp"
#include "helper/report_enforced.hpp"
#include "helper/rlimits.hpp"
#include "helper/sandbox_terminal.hpp"
#include "helper/sanitizer_stack.hpp"
#include "helper/seccomp_load.hpp"
#include "helper/seccomp_program.hpp"
#include "helper/signal_reset.hpp"
#include "helper/stdio_relay.hpp"
#include "helper/supervisor.hpp"
#include "policy/sys.hpp"
#include "helper/userns.hpp"
#include "helper/userns_quotas.hpp"

extern char** environ;

namespace aj::helper {

namespace {

// Everything the sandbox needs, computed in the runner before cloning: the child only
// executes decisions, it makes none that could fail late for a reason known early.
struct Prepared {
    const LaunchRequest& request;
    MountPlan mounts;
    LimitsPlan limits;
    std::vector<std::string> env;
    Identity identity;
    int ns_flags = 0;
    std::string cwd;
    SandboxStdio stdio;
    IdmappedBinds idmapped = {};  // rw binds PID 1 attaches as the runner captured them
};

// True when the runner's end of the sync pipe is closed, i.e. the runner is dead.
bool runner_is_gone(int sync_read) {
    pollfd p{sync_read, POLLIN, 0};
    return sys::retry_eintr([&] { return ::poll(&p, 1, 0); }) != 0 && (p.revents & (POLLHUP | POLLERR));
}

// The runner's two releases on the sync pipe. The first comes once the id maps exist;
// the second, carrying the seccomp program and the command, once PID 1 is in the sandbox's
// cgroup (and, for a warm sandbox, once its request has come: argv_at_release).
// Between them, while PID 1 builds the root (only trusted setup runs meanwhile), the
// runner compiles the program and moves PID 1 into the cgroup (on cgroup v1 the first
// move of a process can wait out an RCU grace period, 10-18 ms here).
constexpr char kMapsWritten = 'g';
constexpr char kPlacedInCgroup = 'c';

// Blocks until the runner sends `expected`; any other outcome (EOF: the runner failed or
// died and reports that itself) ends PID 1 quietly.
void wait_for_runner(int sync_read, char expected) {
    char got = 0;
    ssize_t n = sys::retry_eintr([&] { return ::read(sync_read, &got, 1); });
    if (n != 1 || got != expected) ::_exit(kExitInternal);
}

// The second release: kPlacedInCgroup, the policy's program and the extra one (each its
// instruction count, its load flags, its instructions; the extra one's count 0 when
// there is none), then the command (its length, its words each ending in NUL). The command travels with the release,
// not with the clone: a warm sandbox is built before its request exists (argv_at_release).
void append_program(std::string& msg, const policy::SeccompProgram& program) {
    const std::uint32_t count = static_cast<std::uint32_t>(program.instructions.size());
    msg.append(reinterpret_cast<const char*>(&count), sizeof count);
    msg.append(reinterpret_cast<const char*>(&program.flags), sizeof program.flags);
    msg.append(reinterpret_cast<const char*>(program.instructions.data()), count * sizeof(sock_filter));
}

std::string second_release(const policy::SeccompProgram& program, const std::optional<policy::SeccompProgram>& extra,
                           const std::vector<std::string>& argv) {
    std::string msg(1, kPlacedInCgroup);
    append_program(msg, program);
    append_program(msg, extra.value_or(policy::SeccompProgram{}));
    std::string words;
    for (const std::string& word : argv) words.append(word).push_back('\0');
    const std::uint32_t size = static_cast<std::uint32_t>(words.size());
    msg.append(reinterpret_cast<const char*>(&size), sizeof size);
    return msg + words;
}

// A bound on the command PID 1 accepts: execve refuses far less (E2BIG) anyway.
constexpr std::uint32_t kMaxReleasedCommandBytes = 64u << 20;

struct Release {
    policy::SeccompProgram seccomp;
    policy::SeccompProgram extra_seccomp;  // empty: none (LaunchRequest::extra_seccomp)
    std::vector<std::string> argv;
};

// Reads exactly `size` bytes of the release, or ends PID 1.
std::string read_release_part(int sync_read, std::size_t size, const char* what) {
    std::string bytes = sys::read_all(sync_read, size, what);
    if (bytes.size() != size) ::_exit(kExitInternal);
    return bytes;
}

// One program of the second release (append_program); only the extra one may be empty.
policy::SeccompProgram receive_program(int sync_read, bool may_be_empty) {
    std::uint32_t count = 0;
    std::memcpy(&count, read_release_part(sync_read, sizeof count, "reading the seccomp program's size").data(),
                sizeof count);
    if ((count == 0 && !may_be_empty) || count > BPF_MAXINSNS) ::_exit(kExitInternal);
    policy::SeccompProgram program;
    std::memcpy(&program.flags,
                read_release_part(sync_read, sizeof program.flags, "reading the seccomp program's flags").data(),
                sizeof program.flags);
    if (count == 0) return program;
    const std::string bytes = read_release_part(sync_read, count * sizeof(sock_filter), "reading the seccomp program");
    program.instructions.resize(count);
    std::memcpy(program.instructions.data(), bytes.data(), bytes.size());
    return program;
}

// PID 1's side of second_release(). The runner is trusted, but a short or impossible
// message still ends PID 1 rather than loading half a filter or running half a command.
Release receive_second_release(int sync_read) {
    wait_for_runner(sync_read, kPlacedInCgroup);
    Release release;
    release.seccomp = receive_program(sync_read, false);
    release.extra_seccomp = receive_program(sync_read, true);
    std::uint32_t size = 0;
    std::memcpy(&size, read_release_part(sync_read, sizeof size, "reading the command's size").data(), sizeof size);
    if (size == 0 || size > kMaxReleasedCommandBytes) ::_exit(kExitInternal);
    const std::string words = read_release_part(sync_read, size, "reading the command");
    if (words.back() != '\0') ::_exit(kExitInternal);
    for (std::size_t start = 0; start < words.size();) {
        const std::size_t end = words.find('\0', start);
        release.argv.emplace_back(words, start, end - start);
        start = end + 1;
    }
    return release;
}

// The command, started by PID 1 (start_command): the end of step 6 (docs/design.md),
// seccomp last, then execve. The filter's listener, if any, is left in `listener` of the
// fd table it shares with PID 1 until execve.
[[noreturn]] void command_main(const Prepared& p, const SandboxStdio& stdio, const Release& release, int report_fd,
                              int* listener) {
    try {
        sigset_t none;
        sigemptyset(&none);
        sys::check(::sigprocmask(SIG_SETMASK, &none, nullptr), "unblocking signals");
        reset_ignored_signals();
        // A new session, whose controlling terminal is the relay's own or the sandbox's
        // (LaunchRequest::terminal), if any, never the caller's.
        sys::check(::setsid(), "setsid");
        take_controlling_terminal(stdio);
        sys::check(::chdir(p.cwd.c_str()), "chdir " + p.cwd);
        apply_rlimits(p.limits.rlimits);
        apply_quota_rlimits();
        if (p.request.process) {
            // The caller's identity (ProcessIdentity): PID 1 kept its capabilities in the
            // sandbox's user namespace for us and drops them once we have exec'd.
            const ProcessIdentity& process = *p.request.process;
            apply_requested_rlimits(process.rlimits);
            if (process.umask) ::umask(*process.umask);
            set_kept_capabilities(process.capabilities);
            if (process.no_new_privs) sys::check(::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "PR_SET_NO_NEW_PRIVS");
        } else {
            // PID 1 dropped every capability before forking us (harden_init): check, cheaply.
            verify_no_capabilities();
            sys::check(::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "PR_SET_NO_NEW_PRIVS");
        }
        // Anything above 2 still open (only our report channel) closes at execve.
        sys::check(::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC), "close_range CLOEXEC");
        // Without no_new_privs the kernel takes a filter only from a holder of CAP_SYS_ADMIN
        // in this user namespace: a ProcessIdentity command still holds it here (its
        // effective set is PID 1's until execve recomputes it from the sets kept above).
        *listener = load_seccomp(release.seccomp).release();
        // The caller's second program on top (LaunchRequest::extra_seccomp): it needs no
        // listener, and the policy's program lets seccomp(2) through.
        if (!release.extra_seccomp.instructions.empty()) (void)load_seccomp(release.extra_seccomp);
        int err = exec_command(release.argv, p.env);
        send_message(report_fd, MessageKind::ExecError, err, release.argv.at(0));
        ::_exit(exit_code_for_exec_errno(err));
    } catch (const std::exception& e) {
        send_message(report_fd, MessageKind::SetupError, 0, e.what());
    }
    ::_exit(kExitInternal);
}

// What PID 1 and the starting command share (start_command): read by PID 1 only once
// the command has exec'd or exited.
struct CommandStart {
    const Prepared& p;
    const SandboxStdio& stdio;  // what the command's 0-2 are (already installed)
    const Release& release;
    int report_fd;
    int listener = -1;
    StackLeft pid1_stack;  // for ASan (helper/sanitizer_stack.hpp)
    bool arrived = false;
};

int command_entry(void* arg) {
    auto* start = static_cast<CommandStart*>(arg);
    arrived_on_stack(start->pid1_stack);
    start->arrived = true;
    command_main(start->p, start->stdio, start->release, start->report_fd, &start->listener);
}

// Starts the command and forwards its seccomp listener to the runner. Once its filter is
// loaded, the command may make no call but execve: the policy may refuse any other, and
// a delivered call before the supervisor holds the listener would wait forever. So it
// runs as a vfork-style child sharing PID 1's memory and fd table (PID 1 sleeps until it
// has exec'd or exited): its listener stays behind in the table that execve leaves to
// PID 1 (the command's own copy closes, close-on-exec), and PID 1 passes it on.
pid_t start_command(const Prepared& p, const SandboxStdio& stdio, const Release& release, int report_fd) {
    constexpr std::size_t kStack = 1 << 20;
    void* stack = ::mmap(nullptr, kStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) throw_errno("mapping the command's start stack");
    CommandStart start{p, stdio, release, report_fd, -1, {}, false};
    announce_stack_switch(stack, kStack);
    const pid_t command = ::clone(&command_entry, static_cast<char*>(stack) + kStack,
                                  CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD, &start);
    const int clone_errno = errno;
    if (!start.arrived) arrived_on_stack(start.pid1_stack);  // the switch never happened
    returned_to_stack(start.pid1_stack);
    ::munmap(stack, kStack);
    if (command < 0) throw_errno("starting the command (clone)", clone_errno);
    if (start.listener >= 0) {
        // Unsent (the runner is gone: PID 1 dies with it), delivered calls get ENOSYS.
        (void)send_listener(report_fd, start.listener);
        ::close(start.listener);
    }
    return command;
}

// PID 1's side of LaunchRequest::terminal, once the root is built and before anything
// untrusted exists: a pseudo-terminal of the sandbox's own devpts, whose master goes to
// the runner and whose slave becomes PID 1's 0-2 (the command inherits them; PID 1 lets
// go of them once the command is started: release_stdio). Returns the command's stdio.
SandboxStdio open_command_terminal(const SandboxTerminal& terminal, sys::UniqueFd& channel) {
    PtyPair pty = open_devpts_pty("/dev/pts", terminal.rows, terminal.cols);
    if (!send_fd_message(channel.get(), MessageKind::Terminal, pty.master.get()))
        throw_errno("sending the terminal's master to the runner");
    channel.reset();
    const int slave[3] = {pty.slave.get(), pty.slave.get(), pty.slave.get()};
    install_stdio(slave);
    return SandboxStdio{{0, 1, 2}, 0};
}

// The runner's side: waits for the master PID 1 sends (it builds the root meanwhile) and
// hands it to the caller. False when PID 1 ended before sending it (its report says why).
bool hand_over_terminal(const SandboxTerminal& terminal, int channel) {
    std::string bytes;
    std::vector<sys::UniqueFd> fds;
    if (receive_report(channel, bytes, fds) == 0) return false;
    const std::vector<Message> messages = take_messages(bytes);
    if (messages.size() != 1 || messages[0].kind != MessageKind::Terminal || fds.size() != 1)
        throw Error("the sandbox sent something other than its terminal on the terminal channel");
    terminal.on_master(std::move(fds[0]));
    return true;
}

// The cloned child, PID 1 of the new pid namespace: steps 4 to 6, then its part of 7.
[[noreturn]] void sandbox_main(const Prepared& p, sys::Pipe& sync, sys::Pipe& report, sys::Pipe& terminal) {
    try {
        // Die with the runner. Its death before this line is caught below: the release
        // read then sees EOF (getppid() cannot tell, it is 0 across the pid namespace).
        sys::check(::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0), "PR_SET_PDEATHSIG");
        // Queued from here on, forwarded by run_init (the runner blocked only its own four).
        const sigset_t forwarded = init_forwarded_signals();
        sys::check(::sigprocmask(SIG_BLOCK, &forwarded, nullptr), "blocking the signals PID 1 forwards");
        hide_host_command_line();
        sync.write.reset();
        report.read.reset();
        terminal.read.reset();
        install_stdio(p.stdio);
        std::vector<int> keep{sync.read.get(), report.write.get()};
        if (terminal.write) keep.push_back(terminal.write.get());
        std::map<std::size_t, int> captured;
        for (const auto& [index, tree] : p.idmapped.trees) {
            keep.push_back(tree.get());
            captured.emplace(index, tree.get());
        }
        for (const MountOp& op : p.mounts.ops)
            if (op.tree >= 0) keep.push_back(op.tree);  // the caller's trees (ExtraBind::tree)
        close_fds_except(keep);

        wait_for_runner(sync.read.get(), kMapsWritten);
        become_sandbox_user(p.identity);
        // A credential change clears the parent-death signal: arm it again, then make sure
        // the runner did not die in between (it holds the sync pipe open while it lives).
        sys::check(::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0), "PR_SET_PDEATHSIG after setresuid");
        if (runner_is_gone(sync.read.get())) ::_exit(kExitInternal);
        const sys::UniqueFd scratch = build_root(p.mounts, captured);
        if (p.ns_flags & CLONE_NEWNET) bring_up_loopback();
        if (p.ns_flags & CLONE_NEWUTS)  // a shared one is the caller's (LaunchRequest::shared_namespaces)
            sys::check(::sethostname(p.request.policy.hostname.data(), p.request.policy.hostname.size()),
                       "sethostname " + p.request.policy.hostname);
        // The quotas bound what the sandbox creates, so they come after PID 1's own setup
        // and before anything untrusted exists: build_root holds every bind as a detached
        // tree (one anonymous mount namespace each) at once, and a policy with a dozen
        // paths would otherwise exhaust max_mnt_namespaces (ENOSPC from open_tree).
        limit_user_namespace_quotas();
        restrict_paths(p.mounts);  // a read-only /proc/sys from here on
        const SandboxStdio command_stdio =
            p.request.terminal ? open_command_terminal(*p.request.terminal, terminal.write) : p.stdio;

        // PID 1 gives up everything before the command exists, so untrusted code never
        // shares the namespace with a privileged process. A command with a ProcessIdentity
        // inherits its capabilities from PID 1: PID 1 is made undumpable now and gives up
        // the rest once the command has exec'd (below).
        const bool command_keeps_capabilities = p.request.process.has_value();
        if (command_keeps_capabilities)
            make_init_undumpable();
        else
            harden_init();
        // Nothing forks before PID 1 is in the sandbox's cgroup: every process of the
        // sandbox is born inside it.
        const Release release = receive_second_release(sync.read.get());
        sync.read.reset();
        const pid_t command = start_command(p, command_stdio, release, report.write.get());
        // PID 1 slept until the command exec'd (CLONE_VFORK). Meanwhile, and for the few
        // instructions until here, PID 1 runs only this code; being undumpable, with
        // memory of the host's user namespace, it cannot be traced or have its fds or
        // memory opened by the command, whatever capabilities the command holds inside.
        if (command_keeps_capabilities) harden_init();
        run_init(command, report.write.get(), scratch.get());
    } catch (const std::exception& e) {
        send_message(report.write.get(), MessageKind::SetupError, 0, e.what());
    }
    ::_exit(kExitInternal);
}

}  // namespace

LaunchResult launch(const LaunchRequest& request) {
    using Clock = std::chrono::steady_clock;
    if (request.argv.empty()) throw Error("run: no command given");

    // 1. Decide everything that can be decided (and can fail) before any namespace exists.
    // The cgroup exists before the clone (a v2 parent may first move us into a leaf), and
    // what it enforces is one input of the limits plan.
    const policy::Policy& policy = request.policy;
    // Before the cgroup, whose watch polls it: destroyed after that watch has stopped.
    DiskBudget disk(policy.limits, writable_host_trees(request));
    disk.use_project_quota(request);
    // Shared with the result: its removal is the caller's last step (LaunchResult::teardown).
    auto cgroup = std::make_shared<SandboxCgroup>(policy, CgroupUse::LimitsOnly);
    // The sandbox's own stdio (pipes or a new pseudo-terminal), relayed by this process.
    // With a terminal of the sandbox's own, nothing of the caller's: /dev/null.
    sys::UniqueFd null_stdio;
    if (request.terminal) {
        check_terminal_plan(request.filesystems, request.extra_binds, request.devices);
        null_stdio = sys::open_fd("/dev/null", O_RDWR | O_CLOEXEC, "opening /dev/null for the sandbox's stdio");
    }
    const int no_stdio[3] = {null_stdio.get(), null_stdio.get(), null_stdio.get()};
    StdioRelay stdio(request.terminal ? StdioMode::Relay : request.stdio_mode, request.terminal ? no_stdio : request.stdio);
    count_output_in_budget(request, stdio, disk);
    Prepared p{request,
               build_mount_plan(policy, request.extra_binds, request.workdir, request.overlays, request.filesystems,
                                request.sysctls, request.masked_paths, request.readonly_paths, request.devices,
                                request.device_trees, request.container),
               plan_limits(policy, RlimitScope::OwnUserNamespace, request.timeout_sec, cgroup->enforces_memory()),
               build_environment(policy.env, environ),
               choose_identity(request.host_ids, request.process, request.id_maps),
               namespace_flags(policy, request.shared_namespaces),
               request.cwd.value_or(request.workdir.value_or("/")),
               stdio.sandbox_side()};

    // A root caller's rw binds of other owners' trees, idmapped to the sandbox's host uid.
    p.idmapped = prepare_idmapped_binds(p.mounts, p.identity);

    // What the run's writable trees hold before anything of it runs.
    disk.start();

    // 2. This process is the fresh single-threaded helper: clone needs that.
    drop_supplementary_groups_if_root();
    BlockedSignals signals(forwarded_signals());
    sys::Pipe sync = sys::make_pipe("creating the sync pipe");
    sys::Pipe report = make_report_channel();
    sys::Pipe terminal;  // PID 1 -> runner: the terminal's master (request.terminal only)
    if (request.terminal) terminal = make_report_channel();
    auto started = Clock::now();

    // 3. Clone into the new namespaces; the child waits for the maps before doing anything.
    // On a pure cgroup v2 host the child is born in its cgroup (clone3 CLONE_INTO_CGROUP):
    // no migration, whose write lock waits out an RCU grace period.
    // The user namespace is created as the sandbox's host identity: the kernel charges
    // its owner for what the sandbox creates (userns.hpp, CreatorIdentity).
    bool born_in_cgroup = false;
    CreatorIdentity creator(p.identity);
    pid_t child = clone_into_namespaces(p.ns_flags, cgroup->clone_into_fd(), &born_in_cgroup);
    if (child == 0) sandbox_main(p, sync, report, terminal);
    ChildGuard guard(child);
    // The maps are written as the namespace's owner too: that owner holds every capability
    // in it, so a runner without CAP_SYS_ADMIN in the host namespace (the packaged unit's
    // bounding set) may still deny setgroups and map the leased ids onto themselves.
    try {
        write_id_maps(child, p.identity);
    } catch (const Error& e) {
        throw e.wrap("writing the sandbox's uid/gid maps");
    }
    creator.restore();
    if (born_in_cgroup) cgroup->mark_placed_by_clone();
    p.idmapped.trees.clear();  // PID 1 holds its own copies
    // Namespaces are there (a refused clone falls back, or is refused, with its own
    // message); PID 1 waits for its maps, so nothing has run yet.
    if (!policy.allow_fallback || request.require_isolation) cgroup->refuse_unbounded_limits();
    sync.read.reset();
    report.write.reset();
    terminal.write.reset();
    stdio.started();
    // A PID 1 that died early (its report says why) makes a release find no reader:
    // supervise() then collects that report instead of the runner failing on its own.
    bool alive = sys::write_unless_reader_gone(sync.write.get(), std::string_view(&kMapsWritten, 1),
                                               "releasing the sandbox");
    // PID 1 builds the root meanwhile, and forks nothing until the second release.
    const policy::SeccompProgram seccomp = seccomp_program_for(policy, request.delivery);
    if (seccomp.instructions.empty()) throw Error("run: the compiled seccomp program is empty");
    // Refused before anything untrusted runs: a program that needs a listener, or a policy
    // refusing seccomp(2), whose refusal the command could not survive (a delivered call
    // before the supervisor holds the listener would wait forever).
    if (request.extra_seccomp &&
        (request.extra_seccomp->instructions.empty() || policy::needs_listener(*request.extra_seccomp) ||
         !policy::admits_syscall(policy::seccomp_inputs(policy, request.delivery), "seccomp")))
        throw Error("run: the extra seccomp program is empty, needs a listener, or the policy refuses seccomp(2)");
    if (alive) {
        try {
            cgroup->place(child);
        } catch (const Error& e) {
            if (e.error_number() != ESRCH) throw;
            alive = false;
        }
    }
    if (request.confirm_host_ids) request.confirm_host_ids();
    if (alive && request.terminal) alive = hand_over_terminal(*request.terminal, terminal.read.get());
    terminal.read.reset();
    if (alive && request.before_command) request.before_command(child);
    std::vector<std::string> argv = request.argv;
    if (alive && request.argv_at_release) {
        argv = request.argv_at_release();
        if (argv.empty()) throw Error("run: no command given");
        started = Clock::now();  // a warm sandbox's wall time is its request's
    }
    if (alive) sys::write_unless_reader_gone(sync.write.get(), second_release(seccomp, request.extra_seccomp, argv), "releasing the sandbox's command");
    // sync.write stays open until PID 1 is reaped: its EOF tells the child the runner died.

    // 4-6 run inside (sandbox_main); 7. supervise until PID 1 reports the sandbox over
    // (or, with a cgroup to empty afterwards, until PID 1 is reaped).
    cgroup->watch_disk(disk);
    for (const auto& r : p.limits.rlimits)
        if (r.resource == RLIMIT_NPROC) cgroup->watch_pids(r.soft, std::nullopt);
    cgroup->watch_limits(child);
    NotifySupervisor denials(policy::seccomp_inputs(policy, request.delivery), stderr);
    SandboxOutcome outcome =
        supervise(child, std::move(report.read), signals.fd(), p.limits.timeout_sec, /*until_over=*/!cgroup->exists(),
                  &stdio, request.calls ? request.calls : &denials);
    guard.release();
    // Every process of the sandbox is gone: what it wrote is all in the relay's pipes.
    stdio.finish();

    // PID 1 is in the sandbox cgroup: under memory.oom.group the OOM killer ends it with
    // the command, before it can report the command's status. Its SIGKILL is that status.
    if (!outcome.command_status && !outcome.timed_out && !outcome.setup_error && !outcome.exec_errno &&
        WIFSIGNALED(outcome.init_status) && WTERMSIG(outcome.init_status) == SIGKILL && cgroup->oom_killed_whole_sandbox())
        outcome.command_status = outcome.init_status;
    LaunchResult result = to_result(outcome, "sandbox setup");
    result.wall_sec = std::chrono::duration<double>(Clock::now() - started).count();
    result.mode = "namespaces";
    result.timeout_sec = p.limits.timeout_sec;
    result.host = {p.identity.outside_uid, p.identity.outside_gid};
    result.denials = denials.to_json();
    EnforcementRecord enforced;
    if (request.describe_enforcement) {
        enforced = describe_enforcement(policy, seccomp, p.ns_flags, p.limits, p.identity, p.mounts);
        if (request.process) {
            enforced.capabilities = "as the caller listed them, inside the sandbox's user namespace";
            enforced.no_new_privs = request.process->no_new_privs;
        }
    }
    cgroup->finish(enforced, SandboxCgroup::Removal::Deferred);
    disk.finish(enforced);
    note_limits_hit_by_end(enforced, policy, result.signal, result.timed_out, result.timeout_sec);
    if (outcome.summary && outcome.summary->scratch_full && policy.limits.tmpfs_mb)
        note_limit_hit(enforced, "tmpfs_mb", std::to_string(*policy.limits.tmpfs_mb),
                       "the scratch tmpfs (/tmp and /dev/shm together) was full while the command ran or when it "
                       "ended: writes there failed with ENOSPC");
    result.enforced = to_json(enforced, request.describe_enforcement);
    if (request.describe_enforcement && result.enforced["identity"].is_object())
        result.enforced["identity"]["idmapped_binds"] = p.idmapped.described;
    // PID 1 is reaped, so every process of the sandbox is gone (its pid namespace with it):
    // what is left is only the empty cgroup to remove.
    result.teardown = std::move(cgroup);
    return result;
}

}  // namespace aj::helper
