#include "runner/host_daemon.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "policy/sys.hpp"
#include "policy/error.hpp"
#include "policy/atomic_write.hpp"
#include "runner/daemonize.hpp"
#include "runner/launcher.hpp"
#include "runner/queue.hpp"
#include "runner/run_registry.hpp"
#include "runner/state_dir.hpp"
#include "runner/tree_copy.hpp"
#include "runner/warm_pool.hpp"

namespace aj::runner {

namespace {

using nlohmann::json;
using sys::UniqueFd;

// Extra time the daemon allows a run beyond its own --timeout before killing it: the run
// enforces the timeout itself and needs a moment to tear down and write its report.
constexpr auto kRunGrace = std::chrono::seconds(30);

std::string queue_dir_of(const HostOptions& options, const StateDir& state) {
    return options.queue_dir.empty() ? state.queue() : options.queue_dir;
}

// `--queue-dir DIR` (a prototype's data/ directory, served in place): DIR must exist and,
// like the state directory, be ours and not writable by others, nor any directory above
// it: the daemon hands `run` a report path below DIR, and a swapped tree would send that
// write elsewhere. Its sub-directories are created when missing; requests/ and responses/
// keep their modes (other users' clients may write requests/ through its group; both are
// used through directory fds only); symlinks are refused when opened.
void prepare_queue_dir(const std::string& dir) {
    check_ancestors_trusted(dir);
    struct stat st{};
    if (::lstat(dir.c_str(), &st) < 0) throw_errno("queue directory " + dir);
    if (!S_ISDIR(st.st_mode)) throw Error("queue directory " + dir + ": not a directory");
    if (st.st_uid != ::geteuid() || ((st.st_mode & 022) && !(st.st_mode & S_ISVTX)))
        throw Error("queue directory " + dir + ": must belong to us (uid " + std::to_string(::geteuid()) +
                    ") and not be writable by other users");
    for (const char* sub : {"requests", "responses"}) {
        std::string path = dir + "/" + sub;
        if (::mkdir(path.c_str(), 0700) < 0 && errno != EEXIST) throw_errno("creating " + path);
    }
    ensure_dir(dir + "/claimed", 0700);  // the daemon's alone
}

void log_line(const std::string& line) {
    // Request names and reasons come from files anyone with queue access wrote: no
    // control characters (a newline would forge a log line).
    std::string clean;
    for (char c : line) clean += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
    // One write per line: lines from worker threads never interleave.
    std::string text = "aurora-jail host: " + clean + "\n";
    (void)!::write(2, text.data(), text.size());
}

UniqueFd take_daemon_lock(const std::string& queue_dir) {
    std::string path = queue_dir + "/daemon.lock";
    UniqueFd fd = sys::open_fd(path, O_RDWR | O_CREAT | O_NOFOLLOW, "opening daemon lock", 0600);
    // A POSIX record lock belongs to this process alone. flock() and OFD locks belong to
    // the open file, which a child shares between fork and exec: a run being forked when
    // the daemon was SIGKILLed would then keep a restarted daemon out.
    struct flock lock{};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    if (::fcntl(fd.get(), F_SETLK, &lock) < 0) {
        if (errno == EAGAIN || errno == EACCES)
            throw Error("another host daemon is already serving " + queue_dir + " (lock " + path + ")");
        throw_errno("locking " + path);
    }
    return fd;
}

std::string last_line(const std::string& text) {
    std::size_t end = text.find_last_not_of('\n');
    if (end == std::string::npos) return "";
    std::size_t start = text.rfind('\n', end);
    start = start == std::string::npos ? 0 : start + 1;
    return text.substr(start, std::min<std::size_t>(end + 1 - start, 1000));
}

class Host {
public:
    Host(const HostOptions& options, const StateDir& state, const Launcher& launcher)
        : opts_(options), state_(state), queue_(queue_dir_of(options, state)), launcher_(launcher) {}

    void start_workers(int wake_fd) {
        wake_fd_ = wake_fd;
        unclaimer_ = std::thread([this] { unclaimer(); });
        for (unsigned i = 0; i < opts_.workers; ++i) workers_.emplace_back([this] { worker(); });
    }

    // Queues names found in requests/ that are not pending or in flight yet. Skipped
    // while the pending list can keep every worker busy: the scan cost then tracks the
    // rate requests are served, whatever is dumped into the directory.
    void scan() {
        {
            std::lock_guard lock(mu_);
            if (pending_.size() >= opts_.workers) return;  // a worker's wake-up rescans
        }
        std::vector<std::string> names = queue_.scan(opts_.max_scan);
        std::lock_guard lock(mu_);
        for (auto& name : names) {
            if (known_.insert(name).second) pending_.push_back(std::move(name));
        }
        cv_.notify_all();
    }

    // From now on nothing new is claimed (pending names are dropped: they stay queued).
    void stop_claiming() {
        {
            std::lock_guard lock(mu_);
            stopping_ = true;
            pending_.clear();
        }
        cv_.notify_all();
    }

    // Drain: stop_claiming(), then each worker finishes the request it holds, then the
    // last answers are synced and unclaimed.
    void stop() {
        stop_claiming();
        for (auto& t : workers_)
            if (t.joinable()) t.join();
        {
            std::lock_guard lock(mu_);
            workers_done_ = true;
        }
        unclaim_cv_.notify_one();
        if (unclaimer_.joinable()) unclaimer_.join();
    }

    ~Host() { stop(); }  // also on an error in the main loop: never abandon a worker
    Host(const Host&) = delete;
    Host& operator=(const Host&) = delete;

private:
    // Removes the claims of answered requests once their responses are durable: one
    // fsync of responses/ for every answer written meanwhile, off the workers' path
    // (queue.hpp, Unclaim::Later). Claims it could not remove stay for the next start,
    // which counts them as answered.
    void unclaimer() {
        for (;;) {
            std::vector<std::string> batch;
            {
                std::unique_lock lock(mu_);
                unclaim_cv_.wait(lock, [this] { return workers_done_ || !answered_.empty(); });
                if (answered_.empty()) return;  // the workers are done and so is this
                batch.swap(answered_);
            }
            try {
                queue_.unclaim_answered(batch);
            } catch (const std::exception& e) {
                log_line(std::string("unclaiming answered requests: ") + e.what());
            }
        }
    }

    void worker() {
        for (;;) {
            std::string name;
            {
                std::unique_lock lock(mu_);
                cv_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
                if (stopping_) return;
                name = std::move(pending_.front());
                pending_.pop_front();
            }
            bool served = serve(name);
            bool ask_for_more;
            {
                std::lock_guard lock(mu_);
                known_.erase(name);
                // Only after real work: a name that was gone (or is a duplicate still in
                // progress) must not turn into a scan/claim busy loop.
                ask_for_more = served && pending_.size() < opts_.workers;
            }
            if (ask_for_more) {
                std::uint64_t one = 1;
                (void)!::write(wake_fd_, &one, sizeof one);
            }
        }
    }

    // Claims and answers one request; false when there was nothing to claim.
    bool serve(const std::string& name) {
        RequestLayout layout = RequestLayout::Native;
        try {
            switch (queue_.claim(name, &layout, Queue::Sync::Later)) {
                case Queue::Claim::Gone: return false;
                case Queue::Claim::AlreadyAnswered:
                    log_line(name + ": duplicate of an answered request name; removed");
                    return true;
                case Queue::Claim::Claimed: break;
            }
        } catch (const std::exception& e) {
            log_line(name + ": cannot claim: " + e.what());
            return false;
        }
        auto started = std::chrono::steady_clock::now();
        // Build the answer first, write it once: a failure while writing must never be
        // followed by a second (error) response for the same request.
        std::string outcome;
        json body;
        std::optional<std::string> error;
        try {
            if (layout == RequestLayout::NotARequest)
                throw Error("not a request: requests/" + name +
                            " (requests are NAME.json, or the prototype's NAME.req)");
            body = run_request(name, outcome);
        } catch (const std::exception& e) {
            error = e.what();
            outcome = "error: " + *error;
        }
        try {
            if (error) queue_.answer_error(name, *error, Queue::Unclaim::Later);
            else queue_.answer_result(name, std::move(body), layout, Queue::Unclaim::Later);
        } catch (const std::exception& e) {
            // The claim stays in claimed/: the next start answers it as interrupted.
            log_line(name + ": cannot write response: " + e.what());
            return true;
        }
        {
            std::lock_guard lock(mu_);
            answered_.push_back(name);
        }
        unclaim_cv_.notify_one();
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        char took[32];
        std::snprintf(took, sizeof took, " (%.3fs)", secs);
        log_line(name + ": " + outcome + took);
        return true;
    }

    // Runs one claimed request (through the launcher) and returns its result body; throws
    // for an error response.
    json run_request(const std::string& name, std::string& outcome) {
        const Request req = parse_request(queue_.read_claimed(name));
        LaunchLimits limits;
        limits.max_stdout = limits.max_stderr = opts_.max_output;
        limits.grace = kRunGrace;
        // The claim's sync overlaps with building the sandbox; its command waits for it.
        LaunchedRun run = launcher_.run(name, req, state_.root(), limits, [this] { queue_.sync_claims(); });
        // "unknown plugin ID", a bad policy or a loosening request: nothing ran.
        if (run.refused) throw Error(*run.refused);
        // Killed at the deadline, that run could not remove its directory: do it now. A
        // failure here is logged; it must not replace this request's own answer.
        if (run.killed_at_deadline) {
            try {
                RunRegistry(state_).remove_abandoned_runs();
            } catch (const Error& e) {
                log_line("removing abandoned run directories: " + std::string(e.what()));
            }
        }
        if (run.report.is_null() && (run.exit_code == kExitInternal || run.killed_at_deadline)) {
            // No report: the sandbox never ran (setup failed...).
            std::string why = run.killed_at_deadline ? "run did not finish in time and was killed"
                                                     : last_line(run.err);
            const std::string prefix = "aurora-jail: ";
            if (why.rfind(prefix, 0) == 0) why.erase(0, prefix.size());
            throw Error("sandbox did not start: " + (why.empty() ? "unknown error" : why));
        }
        const bool timed_out = run.report.is_object() && run.report.value("timed_out", false);
        json body{{"plugin", req.plugin},
                  {"rc", run.exit_code},
                  {"stdout", run.out},
                  {"stderr", run.err},
                  {"timeout", timed_out},
                  {"truncated", run.out_truncated || run.err_truncated},
                  {"stdout_truncated", run.out_truncated},
                  {"stderr_truncated", run.err_truncated},
                  {"report", run.report}};
        outcome = "plugin " + req.plugin + " rc=" + std::to_string(run.exit_code) + (timed_out ? " (timeout)" : "") +
                  (run.warm ? " (warm)" : "");
        return body;
    }

    const HostOptions& opts_;
    const StateDir& state_;
    Queue queue_;
    const Launcher& launcher_;
    int wake_fd_ = -1;
    std::vector<std::thread> workers_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::string> pending_;
    std::set<std::string> known_;  // pending or being served
    bool stopping_ = false;
    std::thread unclaimer_;
    std::condition_variable unclaim_cv_;
    std::vector<std::string> answered_;  // answered, still claimed (unclaimer())
    bool workers_done_ = false;
};

}  // namespace

int run_host(const HostOptions& options) {
    if (options.workers < 1 || options.workers > 64) throw Error("--workers must be 1..64");
    if (options.warm > kMaxWarmPerPlugin) throw Error("--warm must be 0.." + std::to_string(kMaxWarmPerPlugin));
    StateDir state(options.state_dir);
    const std::string queue_dir = queue_dir_of(options, state);
    if (!options.queue_dir.empty()) prepare_queue_dir(queue_dir);
    UniqueFd lock = take_daemon_lock(queue_dir);

    // Signals become events on a signalfd; blocked before any thread exists so that
    // every worker inherits the mask and none of them takes SIGTERM. Children get the
    // default mask back (child_process.cpp).
    sigset_t mask;
    sigemptyset(&mask);
    for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&mask, sig);
    if (int rc = pthread_sigmask(SIG_BLOCK, &mask, nullptr)) throw_errno("blocking signals", rc);
    ::signal(SIGPIPE, SIG_IGN);
    // Forked while this process is still single-threaded, before the descriptors below
    // exist; it starts every sandbox (launcher.hpp).
    Launcher launcher = Launcher::start(options.warm);
    UniqueFd sig_fd(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!sig_fd) throw_errno("signalfd");
    UniqueFd ino(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (!ino) throw_errno("inotify_init1");
    std::string requests = queue_dir + "/requests";
    if (::inotify_add_watch(ino.get(), requests.c_str(), IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR) < 0)
        throw_errno("inotify watch on " + requests);
    UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!wake) throw_errno("eventfd");

    // The crash rule, before anything new is claimed.
    Queue::Recovery rec = Queue(queue_dir).recover();
    {
        // Reports of runs a killed daemon never read (daemons before the launcher handed
        // reports back through files there); only the lock holder uses tmp/.
        UniqueFd queue_fd = sys::open_fd(queue_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, "opening queue");
        remove_tree(queue_fd.get(), "tmp");
        ensure_dir(queue_dir + "/tmp", 0700);
    }
    // Directories of --rm runs whose aurora-jail was killed before it could remove them
    // (the daemon's own runs when a daemon before this one was SIGKILLed, among others).
    const std::size_t abandoned = RunRegistry(state).remove_abandoned_runs();
    // STATE/host.heartbeat: its mtime is refreshed from this loop (at least every rescan
    // interval), so packaging/lifecycle/health-check.sh can tell a dead or stuck daemon.
    std::string heartbeat = state.root() + "/host.heartbeat";
    sys::write_file_atomic(heartbeat,
                      json{{"pid", ::getpid()}, {"workers", options.workers}, {"queue", queue_dir}}.dump() + "\n",
                      0600);
    UniqueFd beat = sys::open_fd(heartbeat, O_WRONLY | O_NOFOLLOW, "opening heartbeat");
    auto last_beat = std::chrono::steady_clock::now();

    log_line("serving " + requests + " with " + std::to_string(options.workers) + " workers" +
             (options.warm ? ", " + std::to_string(options.warm) + " warm sandboxes per plugin" : "") + "; recovered " +
             std::to_string(rec.interrupted) + " interrupted, " + std::to_string(rec.already_answered) +
             " already answered; removed " + std::to_string(abandoned) + " abandoned run directories");

    Host host(options, state, launcher);
    host.start_workers(wake.get());
    // Under the lock: a pid file names the daemon that serves, never a refused second one.
    if (!options.pidfile.empty()) write_pidfile(options.pidfile);
    if (options.ready_fd >= 0) {
        (void)!::write(options.ready_fd, "r", 1);
        ::close(options.ready_fd);
    }
    bool need_scan = true;
    bool launcher_died = false;
    for (;;) {
        if (std::chrono::steady_clock::now() - last_beat >= std::chrono::seconds(1)) {
            if (::futimens(beat.get(), nullptr) < 0) log_line("heartbeat: " + errno_text(errno));
            last_beat = std::chrono::steady_clock::now();
        }
        if (need_scan) {
            try {
                host.scan();
            } catch (const std::exception& e) {
                log_line(std::string("scan failed: ") + e.what());
            }
            need_scan = false;
        }
        pollfd fds[4] = {{sig_fd.get(), POLLIN, 0}, {ino.get(), POLLIN, 0}, {wake.get(), POLLIN, 0},
                         {launcher.exit_fd(), POLLIN, 0}};
        int n = ::poll(fds, 4, static_cast<int>(options.rescan.count()));
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_errno("poll");
        }
        if (n == 0) {
            need_scan = true;
            continue;
        }
        if (fds[0].revents) {
            signalfd_siginfo info{};
            (void)!::read(sig_fd.get(), &info, sizeof info);
            // Claims stop before the log line says so: a worker freed in between must not
            // take one more request after the signal.
            host.stop_claiming();
            log_line("signal " + std::to_string(info.ssi_signo) + ": draining (no new claims)");
            break;
        }
        if (fds[3].revents) {
            // A bug, never a request's doing: no sandbox can start any more. Drain what
            // is in flight (answered as not started) and exit for the service manager
            // to restart us; unclaimed requests stay queued.
            host.stop_claiming();
            log_line("the launcher process died: draining, then exiting");
            launcher_died = true;
            break;
        }
        if (fds[1].revents) {
            char buf[8192];
            while (::read(ino.get(), buf, sizeof buf) > 0) {}
            need_scan = true;  // also covers IN_Q_OVERFLOW
        }
        if (fds[2].revents) {
            std::uint64_t v;
            (void)!::read(wake.get(), &v, sizeof v);
            need_scan = true;
        }
    }
    host.stop();
    launcher.stop();
    // Every run of ours has ended. What a daemon killed before us left while its run
    // processes were still dying (their directories were locked when we started) goes now.
    std::size_t late = 0;
    try {
        late = RunRegistry(state).remove_abandoned_runs();
    } catch (const Error& e) {
        log_line("removing abandoned run directories: " + std::string(e.what()));
    }
    if (!options.pidfile.empty()) ::unlink(options.pidfile.c_str());
    log_line(late ? "drained (removed " + std::to_string(late) + " more abandoned run directories); exiting"
                  : std::string("drained; exiting"));
    return launcher_died ? kExitInternal : 0;
}

}  // namespace aj::runner
