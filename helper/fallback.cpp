#include "helper/fallback.hpp"

#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>

#include "helper/caps.hpp"
#include "helper/cgroup_sandbox.hpp"
#include "helper/channel.hpp"
#include "helper/child_guard.hpp"
#include "helper/disk_budget.hpp"
#include "helper/env.hpp"
#include "helper/exec.hpp"
#include "helper/fds.hpp"
#include "helper/init.hpp"
#include "helper/landlock.hpp"
#include "helper/limits_plan.hpp"
#include "helper/report_enforced.hpp"
#include "helper/rlimits.hpp"
#include "helper/signal_reset.hpp"
#include "helper/seccomp_load.hpp"
#include "helper/seccomp_program.hpp"
#include "helper/stdio_relay.hpp"
#include "helper/subreaper.hpp"
#include "helper/supervisor.hpp"
#include "policy/sys.hpp"
#include "helper/userns.hpp"
#include "helper/userns_quotas.hpp"

extern char** environ;

namespace aj::helper {
namespace {

// Device files a command commonly needs even when the policy names none (the
// namespaces mode's minimal /dev offers the same).
const LandlockRule kDeviceRules[] = {{"/dev/null", policy::PathMode::ReadWrite},
                                     {"/dev/zero", policy::PathMode::ReadOnly},
                                     {"/dev/full", policy::PathMode::ReadWrite},
                                     {"/dev/random", policy::PathMode::ReadOnly},
                                     {"/dev/urandom", policy::PathMode::ReadOnly}};

constexpr uid_t kNobody = 65534;

// Who the command runs as without a user namespace of its own.
enum class FallbackIdentity {
    Caller,  // a non-root caller: its own uid, ambient capabilities cleared
    // A root caller: the run's leased host ids (helper/id_pool.hpp; 65534 for the root of
    // another user namespace), after emptying the bounding set.
    Switched,
    // A root caller in a user namespace that denies setgroups or does not map 65534
    // (`unshare -r`, some container runtimes): no switch can succeed there, so the
    // command keeps uid 0 of that namespace (the namespace owner's uid outside), with
    // every capability dropped. Reported as not enforced.
    RootWithoutCapabilities,
};

FallbackIdentity choose_fallback_identity() {
    if (::geteuid() != 0) return FallbackIdentity::Caller;
    if (setgroups_allowed() && ids_mapped(kNobody, kNobody)) return FallbackIdentity::Switched;
    return FallbackIdentity::RootWithoutCapabilities;
}

struct Plan {
    LimitsPlan limits;  // planned once the cgroup exists (what it enforces is an input)
    std::vector<std::string> env;
    std::vector<LandlockRule> landlock;
    LandlockOptions landlock_options;
    std::string cwd;
    FallbackIdentity identity = FallbackIdentity::Caller;
    HostIds switch_to;  // FallbackIdentity::Switched: the run's leased host ids (or 65534)
    policy::SeccompProgram seccomp;
    // Loaded before `seccomp`: the missing namespaces' part a filter can stand in for.
    policy::FallbackFilterInputs fallback_filter_inputs;
    policy::SeccompProgram fallback_filter;
};

// The runner's one release on the sync pipe, once the command is in its cgroup.
constexpr char kPlacedInCgroup = 'g';

// A root caller without namespaces would run the command as real root: become the run's
// leased host ids, after emptying the bounding set (which needs the capabilities we are
// about to lose), or, where no switch is possible, keep the uid without any capability.
void drop_privileges(FallbackIdentity identity, const HostIds& to) {
    if (identity == FallbackIdentity::Switched) {
        for (int cap = 0; cap <= CAP_LAST_CAP; ++cap)
            if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) throw_errno("PR_CAPBSET_DROP");
        sys::check(::setgroups(0, nullptr), "setgroups(0)");
        sys::check(::setresgid(to.gid, to.gid, to.gid), "setresgid " + std::to_string(to.gid));
        sys::check(::setresuid(to.uid, to.uid, to.uid), "setresuid " + std::to_string(to.uid));
        // A credential change clears the parent-death signal.
        sys::check(::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0), "PR_SET_PDEATHSIG after setresuid");
    }
    // Empty bounding and inheritable sets: execve as uid 0 then grants nothing either.
    if (identity == FallbackIdentity::RootWithoutCapabilities) drop_all_capabilities();
    sys::check(::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clearing ambient capabilities");
}

// The child: the rlimit-only counterpart of step 6 of the launch sequence (docs/design.md),
// same order: session, privileges, rlimits, no_new_privs, Landlock, signals, fds, seccomp
// last.
[[noreturn]] void child_main(const LaunchRequest& request, const Plan& plan, const SandboxStdio& stdio, pid_t runner,
                             int sync_fd, int report_fd) {
    try {
        sys::check(::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0), "PR_SET_PDEATHSIG");
        if (::getppid() != runner) ::_exit(kExitInternal);
        install_stdio(stdio);
        close_fds_except({sync_fd, report_fd});
        char go = 0;
        if (sys::retry_eintr([&] { return ::read(sync_fd, &go, 1); }) != 1 || go != kPlacedInCgroup)
            ::_exit(kExitInternal);
        ::close(sync_fd);
        // A new session, whose controlling terminal is the relay's own (if any), never the caller's.
        sys::check(::setsid(), "setsid");
        take_controlling_terminal(stdio);
        drop_privileges(plan.identity, plan.switch_to);
        if (::getppid() != runner) ::_exit(kExitInternal);
        sys::check(::chdir(plan.cwd.c_str()), "chdir " + plan.cwd);
        apply_rlimits(plan.limits.rlimits);
        apply_quota_rlimits();
        sys::check(::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "PR_SET_NO_NEW_PRIVS");
        // Before Landlock, which may hide /proc.
        reset_ignored_signals();
        apply_landlock(plan.landlock, plan.landlock_options);
        sigset_t none;
        sigemptyset(&none);
        sys::check(::sigprocmask(SIG_SETMASK, &none, nullptr), "unblocking signals");
        sys::check(::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC), "close_range CLOEXEC");
        // Kernel-answered programs (DenialDelivery::Kernel): no listener comes back. The
        // command is the runner's own child here, with no PID 1 to take a listener past
        // execve (launch.cpp, start_command), so its refusals are not reported.
        if (!plan.fallback_filter.instructions.empty()) (void)load_seccomp(plan.fallback_filter);
        (void)load_seccomp(plan.seccomp);
        int err = exec_command(request.argv, plan.env);
        send_message(report_fd, MessageKind::ExecError, err, request.argv.at(0));
        ::_exit(exit_code_for_exec_errno(err));
    } catch (const std::exception& e) {
        send_message(report_fd, MessageKind::SetupError, 0, e.what());
    }
    ::_exit(kExitInternal);
}

bool grants_writable_path(const LaunchRequest& request) {
    if (request.workdir) return true;
    for (const auto& r : request.policy.allowed_paths)
        if (r.mode == policy::PathMode::ReadWrite) return true;
    for (const auto& b : request.extra_binds)
        if (b.mode == policy::PathMode::ReadWrite) return true;
    return false;
}

Plan make_plan(const LaunchRequest& request) {
    const policy::Policy& policy = request.policy;
    Plan plan;
    plan.env = build_environment(policy.env, environ);
    plan.landlock = landlock_rules_for(policy);
    for (const auto& d : kDeviceRules) plan.landlock.push_back(d);
    if (request.workdir) plan.landlock.push_back({*request.workdir, policy::PathMode::ReadWrite});
    for (const auto& b : request.extra_binds) {
        // Without a mount namespace a host path can only appear where it is.
        if (b.host != b.inside)
            throw Error("rlimit-only mode cannot show " + b.host + " at " + b.inside +
                        " (no mount namespace); this run needs namespaces");
        plan.landlock.push_back({b.host, b.mode});
    }
    if (!request.overlays.empty())
        throw Error("rlimit-only mode cannot mount an overlay at " + request.overlays.front().inside +
                    " (no mount namespace); this run needs namespaces");
    plan.landlock_options.deny_tcp = policy.network == policy::NetworkMode::None;
    plan.fallback_filter_inputs.deny_network = policy.network == policy::NetworkMode::None;
    // Refusing chmod and its kin everywhere would break a command's own files in a
    // writable place; with none granted, every metadata change would be on a path the
    // policy shows read-only.
    plan.fallback_filter_inputs.deny_metadata = !grants_writable_path(request);
    plan.cwd = request.cwd.value_or(request.workdir.value_or("/"));
    plan.identity = choose_fallback_identity();
    if (plan.identity == FallbackIdentity::Switched) {
        const Identity id = choose_identity(request.host_ids);  // leased, or 65534 (namespaced root)
        plan.switch_to = {id.outside_uid, id.outside_gid};
    }
    return plan;
}

const char* identity_text(FallbackIdentity identity) {
    switch (identity) {
        case FallbackIdentity::Caller: return "the caller's uid";
        case FallbackIdentity::Switched: return "the run's own host uid/gid (root caller)";
        case FallbackIdentity::RootWithoutCapabilities:
            return "the caller's uid 0 of its user namespace (setgroups denied or 65534 unmapped there)";
    }
    return "?";
}

const char* capabilities_text(FallbackIdentity identity) {
    switch (identity) {
        case FallbackIdentity::Caller: return "ambient cleared";
        case FallbackIdentity::Switched: return "all dropped (bounding set emptied, then the run's uid)";
        case FallbackIdentity::RootWithoutCapabilities: return "all dropped (bounding set emptied, uid 0 kept)";
    }
    return "?";
}

EnforcementRecord describe(const LaunchRequest& request, const Plan& plan, const LandlockSupport& landlock,
                           const std::vector<std::string>& not_enforced) {
    EnforcementRecord r;
    record_planned_limits(r, plan.limits);
    for (const char* name : {"pids", "cpus", "memory_mb", "tmpfs_mb"}) r.limits.try_emplace(name);
    const auto& l = request.policy.limits;
    if (const auto& nproc = plan.limits.nproc_headroom) {
        LimitRecord& pids = r.limits["pids"];
        pids = {*l.pids, "rlimit (per-uid headroom, approximate)", std::nullopt};
        pids.scope = "approximate";
        pids.details = {{"uid_tasks_at_start", nproc->uid_tasks}, {"rlimit_nproc", nproc->setting.soft}};
    }
    if (l.cpus) r.limits["cpus"].value = *l.cpus;
    if (l.memory_mb) r.limits["memory_mb"].value = *l.memory_mb;
    r.identity = identity_text(plan.identity);
    r.capabilities = capabilities_text(plan.identity);
    r.seccomp.instructions = plan.seccomp.instructions.size();
    r.seccomp.fallback_filter = nlohmann::json{{"instructions", plan.fallback_filter.instructions.size()},
                                               {"network_denied", plan.fallback_filter_inputs.deny_network},
                                               {"metadata_changes_denied", plan.fallback_filter_inputs.deny_metadata}};
    r.network = plan.fallback_filter_inputs.deny_network
                    ? "none: no namespace; seccomp allows AF_UNIX sockets only (no datagrams) and refuses connect, "
                      "bind, listen and io_uring"
                    : "host";
    LandlockRecord& rules = r.landlock.emplace();
    rules.abi = landlock.abi;
    if (landlock.abi)
        for (const auto& rule : plan.landlock)
            rules.rules.push_back(rule.path + (rule.mode == policy::PathMode::ReadWrite ? " rw" : " ro"));
    rules.tcp_denied = landlock.abi >= 4 && plan.landlock_options.deny_tcp;
    rules.ipc_scoped = landlock.abi >= 6;
    r.environment = "cleared; policy pass/set only";
    r.session = "setsid";
    r.not_enforced = not_enforced;
    return r;
}

// Every protection of namespaces mode this run lacks, for the warning and the report.
std::vector<std::string> missing_protections(const LaunchRequest& request, const Plan& plan,
                                             const LandlockSupport& landlock, const SandboxCgroup& cgroup) {
    const auto& l = request.policy.limits;
    std::vector<std::string> out;
    out.push_back(landlock.abi == 0 ? "file system restrictions: no Landlock (" + landlock.reason + ")"
                                    : "private mount namespace: the host file system is visible where Landlock allows");
    out.push_back("pid, ipc and uts isolation");
    if (l.tmpfs_mb) out.push_back("max_tmpfs_mb (no private /tmp or /dev/shm)");
    if (plan.identity == FallbackIdentity::RootWithoutCapabilities)
        out.push_back("uid 65534 for a root caller (this user namespace denies setgroups or does not map "
                      "65534: the command keeps uid 0 here, without capabilities)");
    if (plan.fallback_filter_inputs.deny_network)
        out.push_back("network namespace (seccomp stands in: AF_UNIX sockets only, and no connect, bind or listen)");
    if (!plan.fallback_filter_inputs.deny_metadata)
        out.push_back("read-only paths for metadata: chmod, chown, utime, xattrs on files the sandbox uid owns "
                      "(Landlock does not cover them; seccomp refuses them only when the policy grants no writable path)");
    using Limit = Cgroup::Limit;
    if (l.cpus && cgroup.backend(Limit::Cpus) == LimitBackend::None)
        out.push_back("max_cpus (CPU bandwidth needs a writable cpu cgroup)");
    if (l.memory_mb && cgroup.backend(Limit::Memory) == LimitBackend::None)
        out.push_back("kernel memory under max_memory_mb (no memory cgroup: the total is summed from the "
                      "processes, so socket buffers and pipes are not counted)");
    if (l.pids && cgroup.backend(Limit::Pids) == LimitBackend::None)
        out.push_back("max_pids exactly (RLIMIT_NPROC counts every task of the uid on the host: approximate)");
    return out;
}

}  // namespace

std::string namespaces_unavailable_reason(const std::vector<NamespaceProbe>& probe) {
    for (const auto& p : probe)
        if (!p.ok && p.error)
            return p.name + " namespace: " + errno_name(p.error) + ": " + p.reason;
    return "namespaces unavailable";
}

LaunchResult launch_or_fall_back(const LaunchRequest& request, bool require_isolation) {
    // Namespaces are tried for real first: a separate probe child on every run cost a
    // fork and a throw-away network namespace. Only a refused clone (nothing has run yet)
    // pays for the probe, which names the cause.
    std::vector<NamespaceProbe> probe;
    try {
        return launch(request);
    } catch (const NamespacesRefused&) {
        probe = probe_namespaces();
        // The probe disagrees (an optional namespace is missing, or the host changed in
        // between): the refusal itself is the honest error.
        if (mode_for(probe) == "namespaces") throw;
    }
    std::string why = namespaces_unavailable_reason(probe);
    if (require_isolation)
        throw Error("refusing to run without namespaces (--require-isolation): " + why, kExitInternal);
    if (!request.policy.allow_fallback)
        throw Error("refusing to run without namespaces (the policy sets allow_fallback: false): " + why, kExitInternal);
    return launch_rlimit_only(request, probe);
}

LaunchResult launch_rlimit_only(const LaunchRequest& request, const std::vector<NamespaceProbe>& probe) {
    using Clock = std::chrono::steady_clock;
    if (request.argv.empty()) throw Error("run: no command given");
    if (request.argv_at_release) throw Error("rlimit-only mode cannot take its command late (a warm sandbox)");
    if (request.id_maps) throw Error("rlimit-only mode cannot map several ids (id_maps)");
    if (request.process) throw Error("rlimit-only mode cannot run the command as a chosen identity (ProcessIdentity)");
    if (request.extra_seccomp) throw Error("rlimit-only mode cannot load a second seccomp program (extra_seccomp)");
    Plan plan = make_plan(request);
    plan.seccomp = seccomp_program_for(request.policy, policy::DenialDelivery::Kernel);
    if (plan.seccomp.instructions.empty()) throw Error("run: the compiled seccomp program is empty");
    const policy::Policy& policy = request.policy;
    plan.fallback_filter = policy::compile_fallback_filter(plan.fallback_filter_inputs);
    LandlockSupport landlock = probe_landlock();

    // Before the cgroup, whose watch polls it: destroyed after that watch has stopped.
    DiskBudget disk(policy.limits, writable_host_trees(request));
    disk.use_project_quota(request);
    SandboxCgroup cgroup(policy, CgroupUse::LimitsAndCleanup);
    plan.limits = plan_limits(policy, RlimitScope::HostUserNamespace, request.timeout_sec, cgroup.enforces_memory(),
                              plan.identity == FallbackIdentity::Switched ? plan.switch_to.uid : ::getuid());
    const std::vector<std::string> not_enforced = missing_protections(request, plan, landlock, cgroup);
    std::string list;
    for (const auto& n : not_enforced) list += (list.empty() ? "" : "; ") + n;
    std::fprintf(stderr, "aurora-jail: warning: rlimit-only mode (%s); NOT enforced: %s\n",
                 namespaces_unavailable_reason(probe).c_str(), list.c_str());
    // What the command leaves running is re-parented here, not to the host's init.
    become_subreaper();
    BlockedSignals signals(forwarded_signals());
    StdioRelay stdio(request.stdio_mode, request.stdio);
    count_output_in_budget(request, stdio, disk);
    disk.start();
    sys::Pipe sync = sys::make_pipe("creating the sync pipe");
    sys::Pipe report = make_report_channel();
    const pid_t runner = ::getpid();
    const auto started = Clock::now();
    pid_t child = ::fork();
    if (child < 0) throw_errno("forking the command");
    if (child == 0) {
        sync.write.reset();
        report.read.reset();
        child_main(request, plan, stdio.sandbox_side(), runner, sync.read.get(), report.write.get());
    }
    ChildGuard guard(child);
    sync.read.reset();
    report.write.reset();
    stdio.started();
    cgroup.place(child);
    if (request.confirm_host_ids) request.confirm_host_ids();
    // A command that died before its release (its report says why) is collected below.
    (void)sys::write_unless_reader_gone(sync.write.get(), std::string_view(&kPlacedInCgroup, 1),
                                        "releasing the command");
    cgroup.watch_disk(disk);
    if (const auto& nproc = plan.limits.nproc_headroom)
        cgroup.watch_pids(nproc->setting.soft,
                          plan.identity == FallbackIdentity::Switched ? plan.switch_to.uid : ::getuid());
    cgroup.watch_limits(0);

    SandboxOutcome outcome =
        supervise_command(child, std::move(report.read), signals.fd(), plan.limits.timeout_sec, &stdio);
    guard.release();
    ::kill(-child, SIGKILL);  // whatever the command left in its session
    // ...and in sessions of its own (setsid): nothing of the run outlives it. Only then is
    // the relay drained: a straggler could hold its pipes open.
    end_descendants(std::chrono::seconds(5));
    stdio.finish();

    LaunchResult result = to_result(outcome, "sandbox setup (rlimit-only)");
    result.wall_sec = std::chrono::duration<double>(Clock::now() - started).count();
    result.mode = "rlimit-only";
    result.timeout_sec = plan.limits.timeout_sec;
    result.host = plan.identity == FallbackIdentity::Switched ? plan.switch_to : HostIds{::geteuid(), ::getegid()};

    EnforcementRecord enforced;
    if (request.describe_enforcement) enforced = describe(request, plan, landlock, not_enforced);
    cgroup.finish(enforced);
    disk.finish(enforced);
    note_limits_hit_by_end(enforced, request.policy, result.signal, result.timed_out, result.timeout_sec);
    result.enforced = to_json(enforced, request.describe_enforcement);
    return result;
}

}  // namespace aj::helper
