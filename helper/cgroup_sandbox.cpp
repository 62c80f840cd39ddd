#include "helper/cgroup_sandbox.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <system_error>

#include "helper/accounting.hpp"
#include "helper/cgroup_fs.hpp"
#include "helper/rlimits.hpp"

namespace aj::helper {
namespace {

// The cgroup enforces this limit of the policy: say so in its "limits" entry.
template <typename T>
void set_backend(EnforcementRecord& enforced, const char* limit, const std::optional<T>& value, const Cgroup& cg,
                 Cgroup::Limit which) {
    if (!value || cg.backend(which) == LimitBackend::None) return;
    LimitRecord& entry = enforced.limits[limit];
    entry.backend = cg.mechanism(which);
    entry.value = *value;
    entry.scope = "total";
}

constexpr auto kWatchInterval = std::chrono::milliseconds(50);

bool wants_cgroup(const policy::Policy& policy) {
    const auto& l = policy.limits;
    return l.memory_mb || l.cpus || l.pids || l.cpu_sec;
}

}  // namespace

SandboxCgroup::SandboxCgroup(const policy::Policy& policy, CgroupUse use) : policy_(policy) {
    const auto& l = policy.limits;
    if (use == CgroupUse::LimitsAndCleanup || wants_cgroup(policy)) cgroup_.emplace(Cgroup::create(cgroup_request_for(policy)));
    // No cgroup for a total: the watch sums the sandbox's processes instead.
    account_memory_ = l.memory_mb && backend(Cgroup::Limit::Memory) == LimitBackend::None;
    account_cpu_ = l.cpu_sec && backend(Cgroup::Limit::CpuTime) == LimitBackend::None;
    // RLIMIT_CPU and RLIMIT_FSIZE end one process, which may not be the command.
    std::vector<int> limit_signals;
    if (l.cpu_sec) limit_signals.push_back(SIGXCPU);
    if (l.file_size_mb) limit_signals.push_back(SIGXFSZ);
    if (!limit_signals.empty()) deaths_.emplace(std::move(limit_signals));
}

void SandboxCgroup::watch_pids(std::uint64_t nproc, std::optional<uid_t> host_uid) {
    if (!policy_.limits.pids || backend(Cgroup::Limit::Pids) != LimitBackend::None) return;
    nproc_ = nproc;
    nproc_host_uid_ = host_uid;
}

bool SandboxCgroup::pids_reached(pid_t spare, const std::vector<pid_t>& runner_tree) {
    if (!nproc_) return false;
    std::uint64_t tasks = 0;
    if (!nproc_host_uid_) {
        // PID 1 counts too: it runs as the sandbox's uid in its user namespace.
        std::vector<pid_t> sandbox = process_tree(spare);
        sandbox.push_back(spare);
        tasks = count_tasks(sandbox);
    } else {
        // The uid's other processes share the count: walk the host only once the
        // sandbox alone holds half of max_pids (a walk of every /proc entry per poll
        // would cost every run).
        const std::uint64_t own = count_tasks(runner_tree);
        if (own > tasks_peak_) tasks_peak_ = own;
        if (own * 2 < *policy_.limits.pids) return false;
        tasks = count_tasks_of(*nproc_host_uid_);
    }
    if (tasks > tasks_peak_) tasks_peak_ = tasks;
    return tasks >= *nproc_;
}

bool SandboxCgroup::enforces_memory() const {
    return cgroup_ && policy_.limits.memory_mb && cgroup_->backend(Cgroup::Limit::Memory) != LimitBackend::None;
}

bool SandboxCgroup::oom_killed_whole_sandbox() const {
    if (!cgroup_ || !cgroup_->oom_group()) return false;
    const CgroupStats s = cgroup_->stats();
    return s.oom_kills && *s.oom_kills > 0;
}

SandboxCgroup::~SandboxCgroup() { stop_watch(); }

int SandboxCgroup::clone_into_fd() const {
    if (!cgroup_ || cgroup_->directories().size() != 1) return -1;
    return cgroup_->v2_fd();
}

void SandboxCgroup::place(pid_t child) const {
    if (!cgroup_ || placed_by_clone_) return;
    try {
        cgroup_->add_process(child);
    } catch (const Error& e) {
        throw e.wrap("placing the sandbox in its cgroup");
    }
}

unsigned SandboxCgroup::poll_limits(pid_t spare, pid_t runner, pid_t exclude) {
    const auto& l = policy_.limits;
    unsigned over = 0;
    if (cgroup_ && l.cpu_sec && cgroup_->backend(Cgroup::Limit::CpuTime) != LimitBackend::None) {
        std::optional<double> used = cgroup_->cpu_seconds();
        if (used && *used > static_cast<double>(*l.cpu_sec)) over |= kCpuTime;
    }
    // What is only seen (max_pids reached, deaths) waits one interval: a walk of /proc as
    // the sandbox starts slowed every short run by tens of ms here, and nothing is missed
    // (RLIMIT_CPU takes a second; a process must live a poll to be pinned anyway).
    const bool watch_seen = polls_++ > 0;
    std::vector<pid_t> pids;
    if (account_memory_ || account_cpu_ || disk_ || (watch_seen && (deaths_ || nproc_host_uid_)))
        pids = process_tree(runner, {exclude});
    if (watch_seen && pids_reached(spare, pids)) over |= kPids;
    if (watch_seen && deaths_) {
        // The sandbox's PID 1 is ours, and ends with the run: not pinned.
        std::vector<pid_t> pinnable = pids;
        std::erase(pinnable, spare);
        deaths_->poll(runner, pinnable);
        for (const auto& [signal, death] : deaths_->deaths()) over |= signal == SIGXCPU ? kDiedOfXcpu : kDiedOfXfsz;
    }
    if (disk_) {
        // The sandbox's PID 1 is ours (not dumpable, its descriptors closed): not measured.
        std::vector<pid_t> measured = pids;
        std::erase(measured, spare);
        if (disk_->poll(measured)) over |= kDisk;
    }
    if (account_memory_ || account_cpu_) {
        const SandboxUsage u = measure_usage(pids);
        if (u.memory_bytes > memory_peak_) memory_peak_ = u.memory_bytes;
        const auto cpu_ms = static_cast<std::uint64_t>(u.cpu_sec * 1000);
        if (cpu_ms > cpu_used_ms_) cpu_used_ms_ = cpu_ms;
        if (account_memory_ && u.memory_bytes > *l.memory_mb * 1024 * 1024) over |= kMemory;
        if (account_cpu_ && u.cpu_sec > static_cast<double>(*l.cpu_sec)) over |= kCpuTime;
    }
    if (!(over & kKilling)) return over;
    if (cgroup_) {
        for (const auto& dir : cgroup_->directories()) {
            sys::UniqueFd fd = cgroupfs::open_dir(dir, "limits watch");
            cgroupfs::kill_members(fd.get(), dir, spare);
        }
    }
    if (!pids.empty()) kill_tree(runner, pids, spare);
    return over;
}

void SandboxCgroup::note_exceeded(unsigned over) {
    if (over & kCpuTime) cpu_exceeded_ = true;
    if (over & kMemory) memory_exceeded_ = true;
    if ((over & kDisk) && disk_) disk_->mark_exceeded();
    if (over & kPids) pids_reached_ = true;
    deaths_seen_ |= over & (kDiedOfXcpu | kDiedOfXfsz);
}

void SandboxCgroup::watch_limits(pid_t spare) {
    const bool cgroup_cpu = cgroup_ && policy_.limits.cpu_sec &&
                            cgroup_->backend(Cgroup::Limit::CpuTime) != LimitBackend::None;
    if (!cgroup_cpu && !account_memory_ && !account_cpu_ && !disk_ && !nproc_ && !deaths_) return;
    const pid_t runner = ::getpid();
    try {
        watch_ = std::thread([this, spare, runner] {
            while (true) {
                try {
                    note_exceeded(poll_limits(spare, runner, -1));
                } catch (const std::exception&) {
                    // The cgroup vanishing under us means the run is over; RLIMIT_CPU remains.
                    return;
                }
                std::unique_lock<std::mutex> lock(stop_mutex_);
                if (stop_cv_.wait_for(lock, kWatchInterval, [this] { return stop_; })) return;
            }
        });
    } catch (const std::system_error& e) {
        if (e.code().value() != EPERM && e.code().value() != ENOSYS) throw;
        fork_watch_process(spare, runner);
    }
}

void SandboxCgroup::fork_watch_process(pid_t spare, pid_t runner) {
    sys::Pipe verdict = sys::make_pipe("creating the limits watch's pipe");
    // Closed by stop_watch(): the watch then collects the last deaths and exits.
    sys::Pipe stop = sys::make_pipe("creating the limits watch's stop pipe");
    pid_t pid = ::fork();
    if (pid < 0) throw_errno("forking the limits watch (no thread could be made: clone3 refused)");
    if (pid == 0) {
        // Only ever _exit: the parent's destructors (this cgroup's removal) are not ours.
        if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || ::getppid() != runner) ::_exit(1);
        verdict.read.reset();
        stop.write.reset();
        // What was only seen (max_pids reached, a death) is sent once: repeated at every
        // poll it would fill the pipe in a long run and block this watch.
        unsigned char sent = 0;
        const auto send = [&](unsigned char over) {
            const bool news = (over & kKilling) || (over & ~sent);
            sent |= over;
            if (news && ::write(verdict.write.get(), &over, 1) != 1) ::_exit(1);
        };
        while (true) {
            try {
                send(static_cast<unsigned char>(poll_limits(spare, runner, ::getpid())));
            } catch (const std::exception&) {
                ::_exit(0);
            }
            pollfd stopped{stop.read.get(), POLLIN, 0};
            if (::poll(&stopped, 1, static_cast<int>(kWatchInterval.count())) > 0) {
                // The run is over: processes reaped since the last poll.
                if (deaths_) {
                    deaths_->collect();
                    unsigned char over = 0;
                    for (const auto& [signal, death] : deaths_->deaths())
                        over |= signal == SIGXCPU ? kDiedOfXcpu : kDiedOfXfsz;
                    send(over);
                }
                ::_exit(0);
            }
        }
    }
    watch_pid_ = pid;
    watch_forked_ = true;
    verdict.write.reset();
    watch_verdict_ = std::move(verdict.read);
    stop.read.reset();
    watch_stop_ = std::move(stop.write);
}

void SandboxCgroup::stop_watch() {
    {
        std::lock_guard<std::mutex> lock(stop_mutex_);
        stop_ = true;
    }
    stop_cv_.notify_all();
    if (watch_.joinable()) watch_.join();
    if (watch_pid_ > 0) {
        // Its last collection takes a walk's time; a watch stuck longer is killed.
        watch_stop_.reset();
        int status = 0;
        bool reaped = false;
        for (int waited_ms = 0; waited_ms < 1000 && !reaped; waited_ms += 5) {
            reaped = sys::retry_eintr([&] { return ::waitpid(watch_pid_, &status, WNOHANG); }) != 0;
            if (!reaped) ::usleep(5000);
        }
        if (!reaped) {
            ::kill(watch_pid_, SIGKILL);
            sys::retry_eintr([&] { return ::waitpid(watch_pid_, &status, 0); });
        }
        watch_pid_ = -1;
        // Every verdict it sent (the pipe holds far more than a run's worth of them).
        const std::string verdicts = sys::read_all(watch_verdict_.get(), 65536, "reading the limits watch's verdicts");
        for (char over : verdicts) note_exceeded(static_cast<unsigned char>(over));
        watch_verdict_.reset();
    }
}

void SandboxCgroup::finish(EnforcementRecord& enforced, Removal removal) {
    stop_watch();
    report_accounting(enforced);
    report_seen(enforced);
    CgroupRecord& record = enforced.cgroup.emplace();
    if (!cgroup_) {
        record.reason = "the policy sets no cgroup-backed limit";
        return;
    }
    const Cgroup& cg = *cgroup_;
    const auto& l = policy_.limits;
    set_backend(enforced, "memory_mb", l.memory_mb, cg, Cgroup::Limit::Memory);
    if (l.memory_mb && cg.oom_group()) enforced.limits["memory_mb"].details["on_oom"] = "every process of the sandbox is killed (memory.oom.group)";
    set_backend(enforced, "cpus", l.cpus, cg, Cgroup::Limit::Cpus);
    // Read back from the kernel: what max_cpus became (cpu.max "QUOTA PERIOD").
    if (l.cpus)
        if (std::optional<std::string> cap = cg.cpu_max()) enforced.limits["cpus"].details["cpu_max"] = *cap;
    set_backend(enforced, "pids", l.pids, cg, Cgroup::Limit::Pids);
    if (policy_.limits.cpu_sec && cg.backend(Cgroup::Limit::CpuTime) != LimitBackend::None) {
        enforced.limits["cpu_sec"].backend = cg.mechanism(Cgroup::Limit::CpuTime) + "+rlimit";
        enforced.limits["cpu_sec"].scope = "total";
    }

    CgroupStats stats = cg.stats();
    record.created = true;
    record.layout = cg.describe();  // its directories: tests check they are gone
    record.memory_peak_bytes = stats.memory_peak_bytes;
    const bool oom = stats.oom_kills && *stats.oom_kills > 0;
    record.oom_killed = oom;
    record.cpu_sec = stats.cpu_sec;
    record.cpu_throttled_periods = stats.cpu_throttled_periods;
    record.cpu_time_exceeded = cpu_exceeded_.load();
    record.placed_by = placed_by_clone_ ? "clone3 CLONE_INTO_CGROUP" : "cgroup.procs";
    if (oom) {
        std::fprintf(stderr, "aurora-jail: the sandbox hit max_memory_mb (%llu) and was OOM-killed%s\n",
                     static_cast<unsigned long long>(policy_.limits.memory_mb.value_or(0)),
                     cg.oom_group() ? " (every process of it)" : "");
        note_limit_hit(enforced, "memory_mb", std::to_string(l.memory_mb.value_or(0)),
                       "cgroup memory oom_kill " + std::to_string(*stats.oom_kills), /*quiet=*/true);
    }
    if (cpu_exceeded_) {
        if (!account_cpu_)  // else report_accounting() said it
            std::fprintf(stderr, "aurora-jail: the sandbox used more than max_cpu_sec (%llu s of CPU) and was killed\n",
                         static_cast<unsigned long long>(policy_.limits.cpu_sec.value_or(0)));
        note_limit_hit(enforced, "cpu_sec", std::to_string(l.cpu_sec.value_or(0)),
                       "the sandbox's processes used that much CPU time together", /*quiet=*/true);
    }
    // A refused fork is the command's own error ("can't start new thread", EAGAIN):
    // named here, since nothing else would name the limit. RLIMIT_NPROC holds the same
    // number and often refuses first, the cgroup then counting nothing refused: its peak
    // at the limit shows it.
    if (l.pids && stats.pids_refused && *stats.pids_refused > 0)
        note_limit_hit(enforced, "pids", std::to_string(*l.pids),
                       "cgroup pids.events max " + std::to_string(*stats.pids_refused) + ": " +
                           std::to_string(*stats.pids_refused) + " fork or thread creation refused");
    else if (l.pids && stats.pids_peak && *stats.pids_peak >= *l.pids)
        note_limit_hit(enforced, "pids", std::to_string(*l.pids),
                       "cgroup pids.peak " + std::to_string(*stats.pids_peak) +
                           ": the sandbox reached it, further forks and threads were refused");

    if (removal == Removal::Deferred) return;  // ~Cgroup removes it (and says so when it cannot)
    try {
        cgroup_->remove();
    } catch (const Error& e) {
        std::fprintf(stderr, "aurora-jail: warning: %s (left for the next start to remove)\n", e.what());
    }
}

void SandboxCgroup::report_seen(EnforcementRecord& enforced) {
    const auto& l = policy_.limits;
    // A forked watch counted in its own copy: the number is then not known here.
    const std::uint64_t peak = tasks_peak_.load();
    if (pids_reached_ && l.pids && nproc_)
        note_limit_hit(enforced, "pids", std::to_string(*l.pids),
                       (peak >= *nproc_ ? std::to_string(peak) + " tasks" : std::string("the tasks")) +
                           (nproc_host_uid_ ? " of the uid on the host" : " of the sandbox") + " reached RLIMIT_NPROC (" +
                           std::to_string(*nproc_) + ") at a poll of the watch: further forks and threads were refused");
    if (!deaths_) return;
    // Processes reaped since the watch's last poll (the thread's watch; a forked one's
    // pins ended with it).
    deaths_->collect();
    const std::map<int, DeathWatch::Death>& seen = deaths_->deaths();
    for (int signal : {SIGXCPU, SIGXFSZ}) {
        const unsigned bit = signal == SIGXCPU ? kDiedOfXcpu : kDiedOfXfsz;
        const auto it = seen.find(signal);
        if (it == seen.end() && !(deaths_seen_ & bit)) continue;
        enforced.limit_signal_deaths[signal] = it == seen.end() ? std::string() : it->second.command;
    }
}

void SandboxCgroup::refuse_unbounded_limits() const {
    std::string missing;
    if (account_memory_) missing += "max_memory_mb (kernel memory such as socket buffers would be unbounded)";
    if (policy_.limits.cpus && backend(Cgroup::Limit::Cpus) == LimitBackend::None)
        missing += std::string(missing.empty() ? "" : ", ") + "max_cpus (CPU bandwidth)";
    if (missing.empty()) return;
    std::string why;
    if (cgroup_ && !cgroup_->notes().empty()) why = " (" + cgroup_->notes().front() + ")";
    throw Error("refusing to run: no writable cgroup holds " + missing + why +
                    "; run as root, or in a cgroup delegated to you (on a cgroup v2 host: systemd-run --user "
                    "--scope -p Delegate=yes, with AURORA_JAIL_CGROUP_PARENT set to that cgroup), or allow the "
                    "degraded limits (allow_fallback: true, without --require-isolation)",
                kExitInternal);
}

void SandboxCgroup::report_accounting(EnforcementRecord& enforced) const {
    if (!account_memory_ && !account_cpu_) return;
    const auto& l = policy_.limits;
    const char* scope = "total (by accounting: the sandbox's processes summed from /proc every 50 ms; overshoot: "
                        "what they use in between)";
    if (account_memory_) {
        LimitRecord& memory = enforced.limits["memory_mb"];
        memory.value = *l.memory_mb;
        memory.backend = "accounting";
        memory.scope = scope;
        memory.details = {{"counted", "Pss of every process"},
                          {"per_process", "RLIMIT_DATA (writable private memory)"},
                          {"not_enforced", "kernel memory: socket buffers, pipes, page tables"}};
    }
    if (account_cpu_) {
        LimitRecord& cpu = enforced.limits["cpu_sec"];
        cpu.value = *l.cpu_sec;
        cpu.backend = "accounting+rlimit";
        cpu.scope = scope;
    }
    enforced.accounting = nlohmann::json{{"memory_peak_bytes", memory_peak_.load()},
                                         {"cpu_sec", static_cast<double>(cpu_used_ms_.load()) / 1000},
                                         {"memory_exceeded", memory_exceeded_.load()},
                                         {"cpu_time_exceeded", cpu_exceeded_.load()},
                                         {"watch", watch_forked_ ? "a forked process (no thread could be made)" : "a thread"}};
    // Said at every run: nothing else bounds what the kernel spends on the sandbox's behalf.
    if (account_memory_)
        std::fprintf(stderr,
                     "aurora-jail: warning: no writable memory cgroup: max_memory_mb (%llu) holds as a total of the "
                     "sandbox's processes (polled); kernel memory they cause (socket buffers, pipes) is NOT "
                     "enforced\n",
                     static_cast<unsigned long long>(*l.memory_mb));
    if (memory_exceeded_)
        std::fprintf(stderr, "aurora-jail: the sandbox's processes used more than max_memory_mb (%llu) together and were killed\n",
                     static_cast<unsigned long long>(*l.memory_mb));
    if (cpu_exceeded_ && account_cpu_)
        std::fprintf(stderr, "aurora-jail: the sandbox used more than max_cpu_sec (%llu s of CPU) and was killed\n",
                     static_cast<unsigned long long>(*l.cpu_sec));
}

}  // namespace aj::helper
