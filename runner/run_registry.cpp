#include "runner/run_registry.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "policy/random_name.hpp"
#include "policy/sys.hpp"
#include "policy/error.hpp"
#include "policy/atomic_write.hpp"
#include "policy/dir_list.hpp"
#include "policy/atomic_write.hpp"
#include "runner/daemonize.hpp"
#include "policy/dir_list.hpp"
#include "runner/manifest.hpp"
#include "runner/report.hpp"
#include "runner/tree_copy.hpp"

namespace aj::runner {

namespace {

using nlohmann::json;
using sys::UniqueFd;

constexpr const char* kStopFlag = "stop-requested";


std::string new_run_id() {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
    return std::string("run-") + stamp + "-" + sys::random_hex(4);
}


// True when the pidfd's process exited within `ms`.
bool wait_exit(int pidfd, int ms) {
    pollfd p{pidfd, POLLIN, 0};
    int n = sys::retry_eintr([&] { return ::poll(&p, 1, ms); });
    return n > 0;
}

bool alive(pid_t pid, unsigned long long start) {
    if (pid <= 0) return false;
    auto now = process_start_time(pid);
    return now && *now == start;
}

}  // namespace

std::optional<unsigned long long> process_start_time(pid_t pid) {
    std::string text;
    try {
        text = sys::read_file("/proc/" + std::to_string(pid) + "/stat", 4096);
    } catch (const Error&) {
        return std::nullopt;
    }
    // Field 2 (comm) may hold spaces and parentheses: parse after its last ')'.
    std::size_t close = text.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::size_t pos = close + 2;  // field 3 starts here
    for (int field = 3; field < 22; ++field) {
        pos = text.find(' ', pos);
        if (pos == std::string::npos) return std::nullopt;
        ++pos;
    }
    return std::strtoull(text.c_str() + pos, nullptr, 10);
}

json to_json(const RunRecord& r) {
    return json{{"id", r.id},
                {"plugin", r.plugin},
                {"argv", r.argv},
                {"state", r.state},
                {"pid", r.pid},
                {"pid_start", r.pid_start},
                {"started_at", r.started_at},
                {"ended_at", r.ended_at},
                {"exit_code", r.exit_code ? json(*r.exit_code) : json(nullptr)},
                {"error", r.error},
                {"stop_requested", r.stop_requested},
                {"host_uid", r.host_uid ? json(*r.host_uid) : json(nullptr)},
                {"host_gid", r.host_gid ? json(*r.host_gid) : json(nullptr)}};
}

RunRecord run_record_from_json(const json& j) {
    RunRecord r;
    r.id = j.value("id", "");
    r.plugin = j.value("plugin", "");
    r.argv = j.value("argv", std::vector<std::string>{});
    r.state = j.value("state", "unknown");
    r.pid = j.value("pid", 0);
    r.pid_start = j.value("pid_start", 0ull);
    r.started_at = j.value("started_at", "");
    r.ended_at = j.value("ended_at", "");
    if (j.contains("exit_code") && j["exit_code"].is_number_integer()) r.exit_code = j["exit_code"].get<int>();
    r.error = j.value("error", "");
    r.stop_requested = j.value("stop_requested", false);
    if (j.contains("host_uid") && j["host_uid"].is_number_unsigned()) r.host_uid = j["host_uid"].get<uid_t>();
    if (j.contains("host_gid") && j["host_gid"].is_number_unsigned()) r.host_gid = j["host_gid"].get<gid_t>();
    return r;
}

// Closed to everyone else. give_work_dir() later lets a root caller's sandbox group (its
// leased gid, known only then) pass through to work/.
void restrict_run_dir(int dir_fd, const std::string& what) {
    sys::check(::fchmod(dir_fd, 0700), "chmod run directory " + what);
}

std::string RunRegistry::run_dir(const std::string& id) const {
    check_safe_name(id, "run id");
    return runs_ + "/" + id;
}

std::string RunRegistry::create_sandbox_dir(const std::string& id, const std::string& name) const {
    UniqueFd dir = sys::open_fd(run_dir(id), O_RDONLY | O_DIRECTORY | O_NOFOLLOW, "opening run directory " + id);
    sys::check(::mkdirat(dir.get(), name.c_str(), 0700), "creating " + id + "/" + name);
    return run_dir(id) + "/" + name;
}

UniqueFd RunRegistry::make_run_dir(int runs, const std::string& name) const {
    if (::mkdirat(runs, name.c_str(), 0700) < 0) {
        if (errno == EEXIST) return {};
        throw_errno("creating run directory " + runs_ + "/" + name);
    }
    UniqueFd dir(sys::retry_eintr([&] {
        return ::openat(runs, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }));
    if (!dir) throw_errno("opening run directory " + runs_ + "/" + name);
    return dir;
}

std::string RunRegistry::create_run() {
    UniqueFd runs = sys::open_fd(runs_, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, "opening runs directory");
    for (int attempt = 0; attempt < 8; ++attempt) {
        std::string id = new_run_id();
        UniqueFd dir = make_run_dir(runs.get(), id);
        if (!dir) continue;
        restrict_run_dir(dir.get(), id);
        sys::check(::mkdirat(dir.get(), "work", 0700), "creating " + id + "/work");
        return id;
    }
    throw Error("creating a run directory in " + runs_ + ": no free run id");
}

void RunRegistry::give_work_dir(const std::string& id, uid_t uid, gid_t gid) const {
    if (uid == ::geteuid() && gid == ::getegid()) return;
    UniqueFd dir = sys::open_fd(run_dir(id), O_RDONLY | O_DIRECTORY | O_NOFOLLOW, "opening run directory " + id);
    // The sandbox's group may pass through the run directory (not list it) to its own dirs.
    sys::check(::fchown(dir.get(), static_cast<uid_t>(-1), gid), "chgrp run directory " + id);
    sys::check(::fchmod(dir.get(), 0710), "chmod run directory " + id);
    for (const char* name : {"work", "overlay-work"}) {
        if (::fchownat(dir.get(), name, uid, gid, AT_SYMLINK_NOFOLLOW) == 0 || (errno == ENOENT && name[0] == 'o'))
            continue;
        throw_errno("chown " + id + "/" + name + " to the sandbox's host uid " + std::to_string(uid));
    }
}

namespace {
constexpr const char* kDisposable = "disposable";
constexpr const char* kDisposableTmp = ".disposable.tmp";
}  // namespace

// A disposable run is made under a staging name (".staging-ID") and renamed into place
// only once its marker is locked inside: a creator killed on the way (a daemon SIGKILLed
// at any moment) never leaves a run directory without a marker, which nothing would ever
// remove. Creators hold a shared flock on the runs directory while they make one;
// remove_abandoned_runs() takes it exclusively, so every staging directory it then sees
// lost its creator (a lock dies with its process).
namespace {
constexpr std::string_view kStagingPrefix = ".staging-";
}  // namespace

std::string RunRegistry::create_disposable_run(sys::UniqueFd& hold) {
    UniqueFd runs = sys::open_fd(runs_, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, "opening runs directory");
    sys::check(sys::retry_eintr([&] { return ::flock(runs.get(), LOCK_SH); }), "locking " + runs_ + " (shared)");
    for (int attempt = 0; attempt < 8; ++attempt) {
        std::string id = new_run_id();
        const std::string staging = std::string(kStagingPrefix) + id;
        UniqueFd dir = make_run_dir(runs.get(), staging);
        if (!dir) continue;
        // Locked under a temporary name and renamed into place: remove_abandoned_runs()
        // never sees the marker unlocked while its creator lives.
        UniqueFd marker(sys::retry_eintr([&] {
            return ::openat(dir.get(), kDisposableTmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        }));
        if (!marker) throw_errno("creating " + runs_ + "/" + staging + "/" + kDisposableTmp);
        sys::check(sys::retry_eintr([&] { return ::flock(marker.get(), LOCK_EX); }), "locking run directory " + id);
        sys::check(::renameat(dir.get(), kDisposableTmp, dir.get(), kDisposable), "marking run directory " + id);
        restrict_run_dir(dir.get(), id);
        sys::check(::mkdirat(dir.get(), "work", 0700), "creating " + id + "/work");
        if (::renameat2(runs.get(), staging.c_str(), runs.get(), id.c_str(), RENAME_NOREPLACE) != 0) {
            const int err = errno;
            remove_tree(runs.get(), staging);
            if (err == EEXIST) continue;
            throw_errno("placing run directory " + id, err);
        }
        hold = std::move(marker);
        return id;
    }
    throw Error("creating a run directory in " + runs_ + ": no free run id");
}

std::size_t RunRegistry::remove_abandoned_runs() const {
    UniqueFd runs = sys::open_fd(runs_, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, "opening runs directory");
    // No creator is half-way while this is held (create_disposable_run): a staging
    // directory seen now is abandoned.
    sys::check(sys::retry_eintr([&] { return ::flock(runs.get(), LOCK_EX); }), "locking " + runs_);
    std::size_t removed = 0;
    for (const std::string& name : sys::list_dir(runs.get(), runs_)) {
        const bool staging = name.starts_with(kStagingPrefix) && is_safe_name(name.substr(kStagingPrefix.size()));
        if (!staging && !is_safe_name(name)) continue;
        UniqueFd dir(sys::retry_eintr([&] {
            return ::openat(runs.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }));
        if (!dir) continue;
        if (!staging) {
            UniqueFd marker(sys::retry_eintr([&] { return ::openat(dir.get(), kDisposable, O_RDONLY | O_NOFOLLOW | O_CLOEXEC); }));
            if (!marker) continue;  // not disposable (or already being removed)
            if (sys::retry_eintr([&] { return ::flock(marker.get(), LOCK_EX | LOCK_NB); }) != 0) continue;  // its run lives
        }
        remove_tree(runs.get(), name);
        ++removed;
    }
    return removed;
}

void RunRegistry::write(const RunRecord& record) const {
    sys::write_file_atomic(run_dir(record.id) + "/record.json", to_json(record).dump(2) + "\n", 0600);
}

RunRecord RunRegistry::read(const std::string& id) const {
    std::string dir = run_dir(id);
    for (int attempt = 0;; ++attempt) {
        UniqueFd fd(sys::retry_eintr([&] {
            return ::open((dir + "/record.json").c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        }));
        if (!fd) {
            if (errno == ENOENT) throw Error("unknown run " + id);
            throw_errno("reading record of run " + id);
        }
        json j = json::parse(sys::read_all(fd.get(), 1 << 20, "reading record of run " + id), nullptr, false);
        if (j.is_discarded() || !j.is_object()) throw Error("run " + id + ": record.json is damaged");
        RunRecord r = run_record_from_json(j);
        if ((r.state == "running" || r.state == "starting") && !alive(r.pid, r.pid_start)) {
            // The supervisor may have just written its final record: look once more.
            if (attempt == 0) continue;
            r.state = "lost";
            r.error = "supervisor (pid " + std::to_string(r.pid) + ") is gone without a final record";
        }
        return r;
    }
}

std::vector<RunRecord> RunRegistry::list() const {
    std::vector<RunRecord> out;
    const UniqueFd runs = sys::open_fd(runs_, O_RDONLY | O_DIRECTORY, "listing runs");
    std::vector<std::string> names;
    for (std::string& name : sys::list_dir(runs.get(), runs_))
        if (is_safe_name(name)) names.push_back(std::move(name));
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
        try {
            out.push_back(read(name));
        } catch (const Error&) {
            // A run dir without a record (a foreground run) is not a background run.
        }
    }
    return out;
}

RunRecord RunRegistry::stop(const std::string& id, double grace_sec) const {
    RunRecord r = read(id);
    if (r.state != "running" && r.state != "starting") return r;
    UniqueFd pidfd(sys::pidfd_open(r.pid));
    if (!pidfd) return read(id);  // exited meanwhile
    // Checked after the pidfd is open: the pidfd pins this very process, so if the start
    // time matches now, every signal below reaches the supervisor and nothing else.
    if (!alive(r.pid, r.pid_start)) return read(id);
    UniqueFd flag = sys::open_fd(run_dir(id) + "/" + kStopFlag, O_WRONLY | O_CREAT | O_NOFOLLOW, "marking stop", 0600);
    flag.reset();
    sys::check(sys::pidfd_send_signal(pidfd.get(), SIGTERM), "SIGTERM to run " + id);
    if (!wait_exit(pidfd.get(), static_cast<int>(grace_sec * 1000))) {
        sys::check(sys::pidfd_send_signal(pidfd.get(), SIGKILL), "SIGKILL to run " + id);
        wait_exit(pidfd.get(), 10000);
        // The supervisor could not write its final record; the sandbox died with it
        // (its PID 1 has SIGKILL as parent-death signal).
        RunRecord last = r;
        last.state = "stopped";
        last.stop_requested = true;
        last.exit_code = 128 + SIGKILL;
        last.ended_at = utc_timestamp();
        last.error = "killed after a grace of " + std::to_string(grace_sec) + "s";
        write(last);
    }
    for (int i = 0; i < 50; ++i) {
        RunRecord now = read(id);
        if (now.state != "running" && now.state != "starting") return now;
        ::usleep(20000);
    }
    return read(id);
}

std::vector<RunRecord> RunRegistry::prune_ended() const {
    std::vector<RunRecord> pruned;
    for (const RunRecord& r : list()) {
        // read() (through list()) says "lost" only once the supervisor is gone, and the
        // sandbox dies with it: nothing of an ended run still uses its directory.
        if (r.state == "running" || r.state == "starting") continue;
        remove(r.id);
        pruned.push_back(r);
    }
    return pruned;
}

void RunRegistry::remove(const std::string& id) const {
    UniqueFd runs = sys::open_fd(runs_, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, "opening runs directory");
    // A disposable run's marker goes last: a removal cut short (its process killed, as a
    // host daemon's run process is when the daemon is, after the answer) leaves a
    // directory that remove_abandoned_runs() still recognises and finishes.
    UniqueFd dir(sys::retry_eintr([&] {
        return ::openat(runs.get(), id.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }));
    if (dir)
        for (const std::string& entry : sys::list_dir(dir.get(), run_dir(id)))
            if (entry != kDisposable) remove_tree(dir.get(), entry);
    remove_tree(runs.get(), id);
}

void RunRegistry::start_detached(RunRecord record, const std::function<int()>& body) const {
    std::string dir = run_dir(record.id);
    fork_detached(
        [&](int ready_fd) {
            int code = kExitInternal;
            try {
                // `stop` sends SIGTERM: launch() forwards it into the sandbox; outside launch
                // it stays pending instead of killing us before the record is final.
                sigset_t mask;
                sigemptyset(&mask);
                for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&mask, sig);
                sigprocmask(SIG_BLOCK, &mask, nullptr);
                redirect_fd(0, "/dev/null", O_RDONLY);
                redirect_fd(1, dir + "/stdout.log", O_WRONLY | O_CREAT | O_APPEND);
                redirect_fd(2, dir + "/stderr.log", O_WRONLY | O_CREAT | O_APPEND);
                record.pid = ::getpid();
                record.pid_start = process_start_time(record.pid).value_or(0);
                record.state = "running";
                record.started_at = utc_timestamp();
                write(record);
                (void)!::write(ready_fd, "r", 1);
                ::close(ready_fd);
                try {
                    code = body();
                    record.state = "exited";
                    record.exit_code = code;
                } catch (const Error& e) {
                    std::fprintf(stderr, "aurora-jail: %s\n", e.what());
                    record.state = "failed";
                    record.error = e.what();
                    code = e.exit_code();
                    record.exit_code = code;
                }
                struct stat st{};
                if (::stat((dir + "/" + kStopFlag).c_str(), &st) == 0) {
                    record.stop_requested = true;
                    if (record.state == "exited") record.state = "stopped";
                }
                record.ended_at = utc_timestamp();
                write(record);
            } catch (const std::exception& e) {
                std::fprintf(stderr, "aurora-jail: background run supervisor: %s\n", e.what());
            }
            return code;
        },
        "background run " + record.id + ": the supervisor failed to start (see " + dir + "/stderr.log)");
}

}  // namespace aj::runner
