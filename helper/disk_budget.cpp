#include "helper/disk_budget.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <sstream>

#include "helper/id_pool.hpp"
#include "helper/launch.hpp"
#include "helper/project_quota.hpp"
#include "helper/stdio_relay.hpp"
#include "policy/sys.hpp"

namespace aj::helper {
namespace {

constexpr std::uint64_t kMiB = 1024 * 1024;
// Walks take at most 1 / kWalkShare of the watch's time, and start at most this often.
constexpr int kWalkShare = 5;
constexpr auto kMinWalkSpacing = std::chrono::milliseconds(50);
// How long a process may stay unlistable (its open files unreadable) before that ends the run.
constexpr auto kHiddenGrace = std::chrono::milliseconds(250);

struct Dir {
    std::unique_ptr<DIR, int (*)(DIR*)> stream;
    std::string path;  // for the report only: the walk never resolves it again
};

bool stat_entry(int dirfd, const char* name, struct statx& out) {
    return ::statx(dirfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_BASIC_STATS | STATX_MNT_ID, &out) == 0;
}

dev_t device_of(const struct statx& st) { return makedev(st.stx_dev_major, st.stx_dev_minor); }

// Counts `st` once; true when it was not counted before.
bool count(DiskWalk& walk, const struct statx& st) {
    if (!walk.seen.emplace(device_of(st), st.stx_ino).second) return false;
    walk.usage.bytes += st.stx_blocks * 512;
    walk.usage.inodes += 1;
    walk.devices.insert(device_of(st));
    return true;
}

// Opens directory `name` of `parent` without following a symlink (the sandbox may swap a
// directory for one while we walk: O_NOFOLLOW on one path component closes that race).
std::unique_ptr<DIR, int (*)(DIR*)> open_dir(int parent, const char* name) {
    const int fd = ::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    std::unique_ptr<DIR, int (*)(DIR*)> dir(fd >= 0 ? ::fdopendir(fd) : nullptr, ::closedir);
    if (fd >= 0 && !dir) ::close(fd);
    return dir;
}

void walk_one(DiskWalk& walk, const std::string& root) {
    struct statx st{};
    if (!stat_entry(AT_FDCWD, root.c_str(), st)) return;  // missing: nothing to count
    const bool fresh = count(walk, st);
    if (!fresh || !S_ISDIR(st.stx_mode)) return;
    const std::uint64_t mount = st.stx_mnt_id;
    std::vector<Dir> stack;
    if (auto d = open_dir(AT_FDCWD, root.c_str())) stack.push_back({std::move(d), root});
    else {
        walk.unreadable.push_back(root);
        return;
    }
    while (!stack.empty()) {
        Dir& top = stack.back();
        errno = 0;
        const dirent* e = ::readdir(top.stream.get());
        if (!e) {
            stack.pop_back();
            continue;
        }
        if (e->d_name[0] == '.' && (e->d_name[1] == 0 || (e->d_name[1] == '.' && e->d_name[2] == 0))) continue;
        const int fd = ::dirfd(top.stream.get());
        if (!stat_entry(fd, e->d_name, st)) continue;  // removed meanwhile
        // Another mount (a host bind inside a granted tree) is not this tree's.
        if (st.stx_mnt_id != mount) continue;
        if (!count(walk, st) || !S_ISDIR(st.stx_mode)) continue;
        std::string path = top.path + "/" + e->d_name;
        if (auto d = open_dir(fd, e->d_name)) stack.push_back({std::move(d), std::move(path)});
        else walk.unreadable.push_back(std::move(path));
    }
}

// Bytes allocated to the distinct regular files open as `fds` that the walk did not count.
std::uint64_t open_file_bytes(const std::vector<int>& fds, const std::set<std::pair<dev_t, ino_t>>& seen) {
    std::set<std::pair<dev_t, ino_t>> counted;
    std::uint64_t bytes = 0;
    for (int fd : fds) {
        struct stat st{};
        if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        const std::pair<dev_t, ino_t> id{st.st_dev, st.st_ino};
        if (seen.contains(id) || !counted.insert(id).second) continue;
        bytes += static_cast<std::uint64_t>(st.st_blocks) * 512;
    }
    return bytes;
}

}  // namespace

DiskWalk walk_trees(const std::vector<std::string>& roots) {
    DiskWalk walk;
    for (const auto& root : roots) walk_one(walk, root);
    return walk;
}

namespace {

// Whether pid is ending and so holds no files the budget must see: every thread of it a
// zombie, dead, or inside exit (PF_EXITING; past exit_mm its /proc entries belong to root,
// so an ordinary runner's opendir of fd/ fails with EACCES like a hidden process's would,
// and under load a fork bomb's killed processes stay there for several walks). A process
// with one live thread is not ending: its files stay open (a leader that exited alone
// leaves them to the other threads).
bool thread_ending(const std::string& stat_path) {
    std::string stat;
    try {
        stat = sys::read_file(stat_path, 4096);
    } catch (const Error&) {
        return true;  // gone meanwhile
    }
    // The state follows the command name, which may hold spaces and ')'; then ppid, pgrp,
    // session, tty_nr, tpgid, and the flags seventh.
    const std::size_t close = stat.rfind(')');
    if (close == std::string::npos || close + 2 >= stat.size()) return false;
    const char state = stat[close + 2];
    if (state == 'Z' || state == 'X') return true;
    std::istringstream rest(stat.substr(close + 2));
    std::string field;
    unsigned long flags = 0;
    for (int i = 0; i < 7 && rest >> field; ++i)
        if (i == 6) flags = std::strtoul(field.c_str(), nullptr, 10);
    constexpr unsigned long kPfExiting = 0x4;  // include/linux/sched.h
    return flags & kPfExiting;
}

bool ended(pid_t pid) {
    const std::string task = "/proc/" + std::to_string(pid) + "/task";
    std::unique_ptr<DIR, int (*)(DIR*)> threads(::opendir(task.c_str()), ::closedir);
    if (!threads) return thread_ending("/proc/" + std::to_string(pid) + "/stat");
    while (const dirent* e = ::readdir(threads.get())) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        if (!thread_ending(task + "/" + e->d_name + "/stat")) return false;
    }
    return true;
}

}  // namespace

DiskUsage unlinked_open_files(const std::vector<pid_t>& pids, const std::set<dev_t>& devices,
                              const std::set<std::pair<dev_t, ino_t>>& seen, std::vector<pid_t>* hidden) {
    DiskUsage out;
    std::set<std::pair<dev_t, ino_t>> counted;
    for (pid_t pid : pids) {
        const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
        std::unique_ptr<DIR, int (*)(DIR*)> fds(::opendir(dir.c_str()), ::closedir);
        if (!fds) {
            if ((errno == EACCES || errno == EPERM) && hidden && !ended(pid)) hidden->push_back(pid);
            continue;  // else gone, or a zombie (its files were closed when it exited)
        }
        while (const dirent* e = ::readdir(fds.get())) {
            if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
            struct stat st{};
            // stat follows the magic link to the open file itself, named or not.
            if (::fstatat(::dirfd(fds.get()), e->d_name, &st, 0) != 0) continue;
            if (!S_ISREG(st.st_mode) || st.st_nlink != 0 || !devices.contains(st.st_dev)) continue;
            const std::pair<dev_t, ino_t> id{st.st_dev, st.st_ino};
            if (seen.contains(id) || !counted.insert(id).second) continue;
            out.bytes += static_cast<std::uint64_t>(st.st_blocks) * 512;
            out.inodes += 1;
        }
    }
    return out;
}

std::vector<std::string> writable_host_trees(const LaunchRequest& request) {
    std::vector<std::string> out;
    if (request.workdir) out.push_back(*request.workdir);
    for (const auto& r : request.policy.allowed_paths)
        if (r.mode == policy::PathMode::ReadWrite) out.push_back(r.path);
    for (const auto& b : request.extra_binds)
        if (b.mode == policy::PathMode::ReadWrite) out.push_back(b.host);
    for (const auto& o : request.overlays) out.push_back(o.upper);
    if (request.container && request.container->root_tree >= 0 && !request.container->root_read_only)
        out.push_back(request.container->root_path);
    return out;
}

void count_output_in_budget(const LaunchRequest& request, StdioRelay& relay, DiskBudget& budget) {
    if (!request.output_in_disk_budget) return;
    if (request.stdio_mode == StdioMode::PassThrough) budget.count_open_files({request.stdio[1], request.stdio[2]});
    else relay.count_output(budget);
}

namespace {

// A directory with no entries (and so no files of other projects).
bool empty_directory(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return false;
    std::unique_ptr<DIR, int (*)(DIR*)> dir(::fdopendir(fd), ::closedir);
    if (!dir) {
        ::close(fd);
        return false;
    }
    while (const dirent* e = ::readdir(dir.get()))
        if (!(e->d_name[0] == '.' && (e->d_name[1] == 0 || (e->d_name[1] == '.' && e->d_name[2] == 0)))) return false;
    return true;
}

// The trees made for this run, which a project may bound: a plugin run's overlay upper
// and work directories, else a --workdir that is empty now.
std::vector<std::string> own_trees(const LaunchRequest& request) {
    std::vector<std::string> own;
    for (const auto& o : request.overlays) {
        own.push_back(o.upper);
        own.push_back(o.work);
    }
    if (own.empty() && request.workdir && empty_directory(*request.workdir)) own.push_back(*request.workdir);
    return own;
}

}  // namespace

void DiskBudget::use_project_quota(const LaunchRequest& request) {
    const policy::Limits& l = request.policy.limits;
    if (!limited()) return;
    const std::vector<std::string> own = own_trees(request);
    if (own.empty()) return;  // finish() says whether the file system has them
    if (::geteuid() != 0 || !request.host_ids) {
        quota_note_ = "not applied: only a root caller's runs may be given a project";
        return;
    }
    std::string why_not;
    // Appended piece by piece: GCC 12 took `std::string(kLockDir) + "/" + ...` for a
    // write past a temporary's buffer (-Warray-bounds, a known false positive).
    std::string trees_record(kLockDir);
    trees_record.append("/").append(std::to_string(request.host_ids->uid)).append(".trees");
    std::optional<ProjectQuota> quota = ProjectQuota::apply(own, request.host_ids->uid, l.disk_mb.value_or(0) * kMiB,
                                                            l.files.value_or(0), why_not, trees_record);
    if (quota) quota_.emplace(std::move(*quota));
    const std::string what = request.overlays.empty() ? " (the empty --workdir)" : " (the overlay /work)";
    quota_note_ = quota_ ? "applied: project " + std::to_string(quota_->id()) + " on " + own.front() + what +
                               ", with accounting for the rest"
                         : "not available: " + why_not;
}

DiskBudget::DiskBudget(const policy::Limits& limits, std::vector<std::string> roots)
    : disk_bytes_(limits.disk_mb.value_or(0) * kMiB), files_(limits.files.value_or(0)), roots_(std::move(roots)) {}

void DiskBudget::start() {
    if (!active()) return;
    DiskWalk walk = walk_trees(roots_);
    baseline_ = walk.usage;
    fds_baseline_ = open_file_bytes(fds_, walk.seen);
    unreadable_at_start_.insert(walk.unreadable.begin(), walk.unreadable.end());
    next_walk_ = std::chrono::steady_clock::now();
}

bool DiskBudget::poll(const std::vector<pid_t>& pids) {
    if (!active()) return false;
    // One quotactl, at every poll (not only when a walk is due).
    if (quota_ && quota_->hit()) quota_hit_ = true;
    using Clock = std::chrono::steady_clock;
    const auto begun = Clock::now();
    if (begun < next_walk_) return false;
    DiskWalk walk = walk_trees(roots_);
    std::vector<pid_t> hidden;
    const DiskUsage unlinked = unlinked_open_files(pids, walk.devices, walk.seen, &hidden);
    const auto took = Clock::now() - begun;
    ++walks_;
    if (took > slowest_walk_) slowest_walk_ = std::chrono::duration_cast<std::chrono::nanoseconds>(took);
    next_walk_ = begun + std::max<Clock::duration>(kMinWalkSpacing, took * kWalkShare);

    const auto grown = [](std::uint64_t now, std::uint64_t before) { return now > before ? now - before : 0; };
    const std::uint64_t bytes = grown(walk.usage.bytes, baseline_.bytes) + unlinked.bytes + output_bytes_.load() +
                                grown(open_file_bytes(fds_, walk.seen), fds_baseline_);
    const std::uint64_t inodes = grown(walk.usage.inodes, baseline_.inodes) + unlinked.inodes;
    if (bytes > peak_bytes_) peak_bytes_ = bytes;
    if (inodes > peak_inodes_) peak_inodes_ = inodes;
    bool over = (disk_bytes_ && bytes > disk_bytes_) || (files_ && inodes > files_);
    for (const auto& dir : walk.unreadable) {
        if (unreadable_at_start_.contains(dir)) continue;
        if (unmeasurable_.empty()) unmeasurable_ = dir;
        over = true;
    }
    // Unlistable in every walk for kHiddenGrace: a process passing through a state the
    // kernel hides for a moment is not one hiding its files. PID 1's fork shares PID 1's
    // non-dumpable memory until it execs the command, which on a loaded host took longer
    // than the 50 ms between two walks (a 500-request queue test, as uid 65534). A writer
    // that does hide gets about kHiddenGrace plus one walk's spacing before the run ends.
    std::map<pid_t, Clock::time_point> still_hidden;
    for (pid_t pid : hidden) {
        if (::kill(pid, 0) != 0 && errno == ESRCH) continue;  // ended meanwhile
        const auto before = unlistable_since_.find(pid);
        const Clock::time_point since = before == unlistable_since_.end() ? begun : before->second;
        still_hidden.emplace(pid, since);
        if (before == unlistable_since_.end() || begun - since < kHiddenGrace) continue;
        if (unmeasurable_.empty()) unmeasurable_ = "the open files of process " + std::to_string(pid);
        over = true;
    }
    unlistable_since_ = std::move(still_hidden);
    if (over) exceeded_ = true;
    return over;
}

std::uint64_t DiskBudget::output_allowance() const {
    if (!disk_bytes_) return std::numeric_limits<std::uint64_t>::max();
    const std::uint64_t used = output_bytes_.load();
    return used >= disk_bytes_ ? 0 : disk_bytes_ - used;
}

void DiskBudget::finish(EnforcementRecord& enforced) {
    if (!limited()) return;
    if (active()) {
        const bool killed = exceeded_;
        next_walk_ = {};
        if (poll({}) && !killed) {
            exceeded_ = false;
            over_at_end_ = true;
        }
    }
    if (!active()) {
        // Nothing of the host is writable: the budget holds trivially.
        for (const auto& [name, value] : {std::pair{"disk_mb", disk_bytes_ / kMiB}, std::pair{"files", files_}}) {
            if (!value) continue;
            LimitRecord& r = enforced.limits[name];
            r.value = value;
            r.backend = "none needed";
            r.scope = "total (the run can write no host file system)";
            r.hit = false;
        }
        return;
    }
    const std::string scope =
        "total (by accounting: the run's writable host trees walked every " +
        std::to_string(kMinWalkSpacing.count()) + " ms or more, growth over the start; overshoot: what the "
        "sandbox writes between two walks)";
    nlohmann::json trees = roots_;
    // Said per run: the stronger mechanism, and why it did not hold this budget.
    std::string quota = quota_note_;
    if (quota.empty() && !roots_.empty()) {
        const ProjectQuotaSupport q = probe_project_quota(roots_.front());
        quota = q.available ? "available on " + roots_.front() +
                                  "'s file system; not applied: no tree made for the run (a plugin run's /work, an "
                                  "empty --workdir)"
                            : "not available: " + q.reason;
    }
    const bool quota_hit = quota_hit_.load() || (quota_ && quota_->hit());
    nlohmann::json skipped(unreadable_at_start_);
    const auto fill = [&](const char* name, std::uint64_t limit, std::uint64_t value, std::uint64_t peak,
                          bool output_counts) {
        if (!limit) return;
        LimitRecord& r = enforced.limits[name];
        r.value = value;
        r.backend = quota_ ? "project quota+accounting" : "accounting";
        r.scope = scope;
        r.hit = exceeded_.load() || over_at_end_ || quota_hit || (output_counts && output_cut_.load());
        r.details = {{"peak_added", peak}, {"trees", trees}, {"walks", walks_},
                     {"slowest_walk_ms", std::chrono::duration<double, std::milli>(slowest_walk_).count()},
                     {"project_quota", quota}};
        if (!skipped.empty()) r.details["unmeasured_at_start"] = skipped;
        if (!unmeasurable_.empty()) r.details["made_unreadable"] = unmeasurable_;
    };
    fill("disk_mb", disk_bytes_, disk_bytes_ / kMiB, peak_bytes_.load(), true);
    fill("files", files_, files_, peak_inodes_.load(), false);
    if (output_bytes_.load() && disk_bytes_) {
        enforced.limits["disk_mb"].details["output_bytes"] = output_bytes_.load();
        enforced.limits["disk_mb"].details["output_cut"] = output_cut_.load();
    }
    if (!exceeded_ && !over_at_end_) return;
    std::string limits;
    if (disk_bytes_) limits = "max_disk_mb " + std::to_string(disk_bytes_ / kMiB);
    if (files_) limits += (limits.empty() ? "" : ", ") + std::string("max_files ") + std::to_string(files_);
    std::string why = "added " + std::to_string(peak_bytes_.load() / kMiB) + " MiB and " +
                      std::to_string(peak_inodes_.load()) + " files";
    if (!unmeasurable_.empty())
        why = unmeasurable_ + " became unreadable to the runner, so what it holds cannot be measured";
    std::fprintf(stderr, "aurora-jail: the sandbox passed its disk budget (%s: %s) %s\n", limits.c_str(), why.c_str(),
                 exceeded_ ? "and was killed" : "before the watch could stop it (found after the run)");
}

}  // namespace aj::helper
