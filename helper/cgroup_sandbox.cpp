#include "helper/cgroup_sandbox.hpp"

#include <chrono>
#include <cstdio>

#include "helper/cgroup_fs.hpp"

namespace aj::helper {
namespace {

// The cgroup enforces this limit of the policy: say so in its "limits" entry.
template <typename T>
void set_backend(EnforcementRecord& enforced, const char* limit, const std::optional<T>& value, LimitBackend backend) {
    if (!value || backend == LimitBackend::None) return;
    LimitRecord& entry = enforced.limits[limit];
    entry.backend = backend_name(backend);
    entry.value = *value;
}

bool wants_cgroup(const policy::Policy& policy) {
    const auto& l = policy.limits;
    return l.memory_mb || l.cpus || l.pids || l.cpu_sec;
}

}  // namespace

SandboxCgroup::SandboxCgroup(const policy::Policy& policy, CgroupUse use) : policy_(policy) {
    if (use == CgroupUse::LimitsOnly && !wants_cgroup(policy)) return;
    cgroup_.emplace(Cgroup::create(cgroup_request_for(policy)));
}

bool SandboxCgroup::enforces_memory() const {
    return cgroup_ && policy_.limits.memory_mb && cgroup_->backend(Cgroup::Limit::Memory) != LimitBackend::None;
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

void SandboxCgroup::watch_cpu_time(pid_t spare) {
    const auto& limit = policy_.limits.cpu_sec;
    if (!cgroup_ || !limit || cgroup_->backend(Cgroup::Limit::CpuTime) == LimitBackend::None) return;
    const double max_sec = static_cast<double>(*limit);
    const Cgroup& cg = *cgroup_;
    watch_ = std::thread([this, &cg, max_sec, spare] {
        while (true) {
            try {
                std::optional<double> used = cg.cpu_seconds();
                if (used && *used > max_sec) {
                    cpu_exceeded_ = true;
                    for (const auto& dir : cg.directories()) {
                        sys::UniqueFd fd = cgroupfs::open_dir(dir, "cpu watch");
                        cgroupfs::kill_members(fd.get(), dir, spare);
                    }
                }
            } catch (const std::exception&) {
                // The cgroup vanishing under us means the run is over; RLIMIT_CPU remains.
                return;
            }
            std::unique_lock<std::mutex> lock(stop_mutex_);
            if (stop_cv_.wait_for(lock, std::chrono::milliseconds(50), [this] { return stop_; })) return;
        }
    });
}

void SandboxCgroup::stop_watch() {
    {
        std::lock_guard<std::mutex> lock(stop_mutex_);
        stop_ = true;
    }
    stop_cv_.notify_all();
    if (watch_.joinable()) watch_.join();
}

void SandboxCgroup::finish(EnforcementRecord& enforced) {
    stop_watch();
    CgroupRecord& record = enforced.cgroup.emplace();
    if (!cgroup_) {
        record.reason = "the policy sets no cgroup-backed limit";
        return;
    }
    const Cgroup& cg = *cgroup_;
    const auto& l = policy_.limits;
    set_backend(enforced, "memory_mb", l.memory_mb, cg.backend(Cgroup::Limit::Memory));
    set_backend(enforced, "cpus", l.cpus, cg.backend(Cgroup::Limit::Cpus));
    set_backend(enforced, "pids", l.pids, cg.backend(Cgroup::Limit::Pids));
    if (policy_.limits.cpu_sec && cg.backend(Cgroup::Limit::CpuTime) != LimitBackend::None)
        enforced.limits["cpu_sec"].backend = std::string(backend_name(cg.backend(Cgroup::Limit::CpuTime))) + "+rlimit";

    CgroupStats stats = cg.stats();
    record.created = true;
    record.layout = cg.describe();  // its directories: tests check they are gone
    record.memory_peak_bytes = stats.memory_peak_bytes;
    const bool oom = stats.oom_kills && *stats.oom_kills > 0;
    record.oom_killed = oom;
    record.cpu_sec = stats.cpu_sec;
    record.cpu_time_exceeded = cpu_exceeded_.load();
    record.placed_by = placed_by_clone_ ? "clone3 CLONE_INTO_CGROUP" : "cgroup.procs";
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
