#include "helper/cgroup_sandbox.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <system_error>

#include "helper/cgroup_fs.hpp"

namespace aj::helper {
namespace {

template <typename T>
void set_backend(nlohmann::json& enforced, const char* limit, const std::optional<T>& value, LimitBackend backend) {
    if (!value || backend == LimitBackend::None) return;
    enforced["limits"][limit]["backend"] = backend_name(backend);
    enforced["limits"][limit]["value"] = *value;
}

bool wants_cgroup(const policy::Policy& policy) {
    const auto& l = policy.limits;
    return l.memory_mb || l.cpus || l.pids || l.cpu_sec;
}

}  // namespace

SandboxCgroup::SandboxCgroup(const policy::Policy& policy, std::vector<RlimitSetting>& rlimits, CgroupUse use)
    : policy_(policy) {
    if (use == CgroupUse::LimitsOnly && !wants_cgroup(policy)) return;
    cgroup_.emplace(Cgroup::create(cgroup_request_for(policy)));
    if (cgroup_->backend(Cgroup::Limit::Memory) != LimitBackend::None && policy.limits.memory_mb)
        rlimits.erase(std::remove_if(rlimits.begin(), rlimits.end(),
                                     [](const RlimitSetting& s) { return s.resource == RLIMIT_AS; }),
                      rlimits.end());
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

bool SandboxCgroup::kill_if_over(const Cgroup& cg, double max_sec, pid_t spare) {
    std::optional<double> used = cg.cpu_seconds();
    if (!used || *used <= max_sec) return false;
    for (const auto& dir : cg.directories()) {
        sys::UniqueFd fd = cgroupfs::open_dir(dir, "cpu watch");
        cgroupfs::kill_members(fd.get(), dir, spare);
    }
    return true;
}

void SandboxCgroup::watch_cpu_time(pid_t spare) {
    const auto& limit = policy_.limits.cpu_sec;
    if (!cgroup_ || !limit || cgroup_->backend(Cgroup::Limit::CpuTime) == LimitBackend::None) return;
    const double max_sec = static_cast<double>(*limit);
    const Cgroup& cg = *cgroup_;
    try {
        watch_ = std::thread([this, &cg, max_sec, spare] {
            while (true) {
                try {
                    if (kill_if_over(cg, max_sec, spare)) cpu_exceeded_ = true;
                } catch (const std::exception&) {
                    // The cgroup vanishing under us means the run is over; RLIMIT_CPU remains.
                    return;
                }
                std::unique_lock<std::mutex> lock(stop_mutex_);
                if (stop_cv_.wait_for(lock, std::chrono::milliseconds(50), [this] { return stop_; })) return;
            }
        });
    } catch (const std::system_error& e) {
        if (e.code().value() != EPERM && e.code().value() != ENOSYS) throw;
        fork_watch_process(max_sec, spare);
    }
}

void SandboxCgroup::fork_watch_process(double max_sec, pid_t spare) {
    sys::Pipe verdict = sys::make_pipe("creating the cpu watch's pipe");
    pid_t pid = ::fork();
    if (pid < 0) throw_errno("forking the cpu watch (no thread could be made: clone3 refused)");
    if (pid == 0) {
        // Only ever _exit: the parent's destructors (this cgroup's removal) are not ours.
        if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) ::_exit(1);
        verdict.read.reset();
        bool told = false;
        const timespec poll{0, 50'000'000};
        while (true) {
            try {
                if (kill_if_over(*cgroup_, max_sec, spare) && !told)
                    told = ::write(verdict.write.get(), "x", 1) == 1;
            } catch (const std::exception&) {
                ::_exit(0);
            }
            ::nanosleep(&poll, nullptr);
        }
    }
    watch_pid_ = pid;
    verdict.write.reset();
    watch_verdict_ = std::move(verdict.read);
}

void SandboxCgroup::stop_watch() {
    {
        std::lock_guard<std::mutex> lock(stop_mutex_);
        stop_ = true;
    }
    stop_cv_.notify_all();
    if (watch_.joinable()) watch_.join();
    if (watch_pid_ > 0) {
        ::kill(watch_pid_, SIGKILL);
        int status = 0;
        sys::retry_eintr([&] { return ::waitpid(watch_pid_, &status, 0); });  // ECHILD: reaped already
        watch_pid_ = -1;
        char byte = 0;
        if (sys::retry_eintr([&] { return ::read(watch_verdict_.get(), &byte, 1); }) == 1) cpu_exceeded_ = true;
        watch_verdict_.reset();
    }
}

void SandboxCgroup::finish(nlohmann::json& enforced) {
    stop_watch();
    if (!cgroup_) {
        enforced["cgroup"] = {{"created", false}, {"reason", "the policy sets no cgroup-backed limit"}};
        return;
    }
    const Cgroup& cg = *cgroup_;
    const auto& l = policy_.limits;
    set_backend(enforced, "memory_mb", l.memory_mb, cg.backend(Cgroup::Limit::Memory));
    set_backend(enforced, "cpus", l.cpus, cg.backend(Cgroup::Limit::Cpus));
    set_backend(enforced, "pids", l.pids, cg.backend(Cgroup::Limit::Pids));
    if (policy_.limits.cpu_sec && cg.backend(Cgroup::Limit::CpuTime) != LimitBackend::None)
        enforced["limits"]["cpu_sec"]["backend"] =
            std::string(backend_name(cg.backend(Cgroup::Limit::CpuTime))) + "+rlimit";

    CgroupStats stats = cg.stats();
    nlohmann::json j = cg.describe();  // its directories: tests check they are gone
    if (stats.memory_peak_bytes) j["memory_peak_bytes"] = *stats.memory_peak_bytes;
    bool oom = stats.oom_kills && *stats.oom_kills > 0;
    j["oom_killed"] = oom;
    if (stats.cpu_sec) j["cpu_sec"] = *stats.cpu_sec;
    j["cpu_time_exceeded"] = cpu_exceeded_.load();
    j["placed_by"] = placed_by_clone_ ? "clone3 CLONE_INTO_CGROUP" : "cgroup.procs";
    enforced["cgroup"] = j;
    if (oom)
        std::fprintf(stderr, "aurora-jail: the sandbox hit max_memory_mb (%llu) and was OOM-killed\n",
                     static_cast<unsigned long long>(policy_.limits.memory_mb.value_or(0)));
    if (cpu_exceeded_)
        std::fprintf(stderr, "aurora-jail: the sandbox used more than max_cpu_sec (%llu s of CPU) and was killed\n",
                     static_cast<unsigned long long>(policy_.limits.cpu_sec.value_or(0)));

    try {
        cgroup_->remove();
    } catch (const Error& e) {
        std::fprintf(stderr, "aurora-jail: warning: %s (left for the next start to remove)\n", e.what());
    }
}

}  // namespace aj::helper
