#include "runner/launcher.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

#include "helper/fds.hpp"
#include "policy/default_policy.hpp"
#include "policy/error.hpp"
#include "policy/parse.hpp"
#include "runner/fd_passing.hpp"
#include "runner/plugin_run.hpp"
#include "runner/plugin_store.hpp"
#include "runner/request_limits.hpp"
#include "runner/run_sandbox.hpp"
#include "runner/state_dir.hpp"
#include "runner/warm_pool.hpp"

namespace aj::runner {

namespace {

using nlohmann::json;
using sys::UniqueFd;
using Clock = std::chrono::steady_clock;

// An order is a request (at most kMaxRequestBytes) plus a few names.
constexpr std::size_t kMaxOrderBytes = kMaxRequestBytes + 8192;
// The reply carries the run report (the daemon's own bound) and a few short lines.
constexpr std::size_t kMaxReplyBytes = (std::size_t{1} << 20) + 4096;
// The launcher's copy of the control socket, once everything else is closed.
constexpr int kControlFd = 3;
// Run processes (warm ones included) beyond which the launcher takes no new order until
// one ends: a run answers before its teardown, so a fast stream of requests could
// otherwise pile up processes tearing down, each holding a leased host id (id_pool.hpp).
// Above any worker count (64) plus a full pool (kMaxWarmPerPlugin * kMaxWarmPlugins).
constexpr std::size_t kMaxRunProcesses = 128;
// The worker's one byte on the reply socket: the command may start.
constexpr char kCommandRelease = 'g';

// One line on the reply socket; a worker that has gone is no error of ours.
void reply_line(int reply, const json& line) {
    (void)sys::write_unless_reader_gone(reply, dump_json(line) + "\n", "writing to the daemon's worker");
}

// A run process is forked by a process that blocks the daemon's signals and ignores
// SIGPIPE: give it what a freshly executed `aurora-jail run` would have.
void reset_signals() {
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction dfl{};
    dfl.sa_handler = SIG_DFL;
    for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD}) ::sigaction(sig, &dfl, nullptr);
}

// The run process's stdin is /dev/null, its stdout and stderr the worker's pipes.
void take_stdio(UniqueFd out, UniqueFd err) {
    UniqueFd devnull = sys::open_fd("/dev/null", O_RDONLY, "opening /dev/null");
    sys::check(::dup2(devnull.get(), 0), "dup2 stdin");
    sys::check(::dup2(out.get(), 1), "dup2 stdout");
    sys::check(::dup2(err.get(), 2), "dup2 stderr");
}

// Loads the plugin's policy (the only parse of it) and checks the request against it;
// every failure here is the reason of an error response, before anything runs.
struct CheckedRequest {
    Request request;
    policy::Policy policy;
    RequestLimits limits;
    // The staged directory (restaging renames another in place; its ctime guards against
    // an inode number reused by a later stage).
    dev_t plugin_dev = 0;
    ino_t plugin_ino = 0;
    timespec plugin_ctime{};
};
CheckedRequest check_request(const json& order, const StateDir& state) {
    Request req = parse_request(order.at("request").dump());
    const StagedPlugin plugin = PluginStore(state).find(req.plugin);
    const std::string policy_file = plugin_policy_file(state, plugin.manifest);
    policy::Policy policy = policy_file.empty() ? policy::default_policy() : policy::load_policy_file(policy_file);
    // A request may tighten the plugin's policy, never loosen it: whoever can write the
    // queue is not whoever wrote the policy.
    RequestLimits limits = tighten_only(req, policy, req.plugin);
    struct stat st{};
    sys::check(::stat(plugin.path.c_str(), &st), "stat " + plugin.path);
    return {std::move(req), std::move(policy), limits, st.st_dev, st.st_ino, st.st_ctim};
}

// Whether a warm sandbox built for `built` may serve `order` (warm_pool.hpp): the same
// staged directory, policy and limits.
bool same_sandbox(const CheckedRequest& built, const CheckedRequest& order) {
    return built.plugin_dev == order.plugin_dev && built.plugin_ino == order.plugin_ino &&
           built.plugin_ctime.tv_sec == order.plugin_ctime.tv_sec &&
           built.plugin_ctime.tv_nsec == order.plugin_ctime.tv_nsec &&
           built.policy == order.policy && built.limits.timeout_sec == order.limits.timeout_sec &&
           built.limits.memory_mb == order.limits.memory_mb;
}

// Blocks until the worker releases the command (its claim is durable); throws otherwise.
void wait_for_release(int reply) {
    char got = 0;
    const ssize_t n = sys::retry_eintr([&] { return ::read(reply, &got, 1); });
    if (n != 1 || got != kCommandRelease)
        throw Error("the daemon did not release the command (its claim could not be made durable)");
}

// The reply's first line: the run process's pidfd, the worker's way to kill it.
void send_pid_line(int reply) {
    UniqueFd self(sys::pidfd_open(::getpid()));
    if (!self) throw_errno("pidfd_open for the run process");
    const std::string line = dump_json(json{{"launcher", "pid"}}) + "\n";
    const int fds[] = {self.get()};
    send_with_fds(reply, line, fds, "sending the run process's pidfd");
}

// A run that failed to start: what `aurora-jail run` printed for it (the worker reads the
// reason there); returns its exit status.
int report_failure(const std::exception& e) {
    const auto* aj_error = dynamic_cast<const Error*>(&e);
    std::fprintf(stderr, "aurora-jail: %s%s\n", aj_error ? "" : "internal error: ", e.what());
    return aj_error ? aj_error->exit_code() : kExitInternal;
}

// The reply's last line.
int send_done(int reply, int rc) {
    std::fflush(nullptr);
    reply_line(reply, {{"launcher", "done"}, {"rc", rc}});
    return rc;
}

// The run is over and reported (RunOptions::after_report): "done", then the worker's
// descriptors go, so that it answers while this process tears the sandbox down. What
// the teardown says (a warning) goes to the daemon's log instead.
void answer_before_teardown(int reply, int rc, int log) {
    send_done(reply, rc);
    if (log >= 0) {
        (void)::dup2(log, 1);
        (void)::dup2(log, 2);
    }
    // Not closed: the run's report writer still names this descriptor number.
    (void)::shutdown(reply, SHUT_RDWR);
}

// The RunOptions of a checked request, as `aurora-jail run --plugin ID --rm` would have them.
RunOptions run_options(const std::string& state_dir, const CheckedRequest& checked, int reply) {
    RunOptions o;
    o.state_dir = state_dir;
    o.plugin = checked.request.plugin;
    o.remove_run_dir = true;
    o.parsed_policy = &checked.policy;
    o.timeout_sec = checked.limits.timeout_sec;
    if (checked.limits.memory_mb) o.memory_mb = *checked.limits.memory_mb;
    if (checked.request.argv) o.command = *checked.request.argv;
    o.report_fd = reply;
    return o;
}

// The run process: everything `aurora-jail run --plugin ID --rm --report-fd N` did, with
// the request's policy parsed once. `log` is the daemon's log, for what the teardown
// after the answer says. Returns its exit status.
int serve_order(const std::string& text, UniqueFd reply, int log) {
    send_pid_line(reply.get());
    std::optional<CheckedRequest> checked;
    try {
        const json order = json::parse(text);
        checked.emplace(check_request(order, StateDir(order.at("state_dir").get<std::string>())));
        RunOptions o = run_options(order.at("state_dir").get<std::string>(), *checked, reply.get());
        const int release_fd = reply.get();
        o.before_command = [release_fd] { wait_for_release(release_fd); };
        bool answered = false;
        o.after_report = [&answered, release_fd, log](int rc) {
            answer_before_teardown(release_fd, rc, log);
            answered = true;
        };
        reply_line(reply.get(), {{"launcher", "started"}, {"timeout_sec", o.timeout_sec}});
        int rc = kExitInternal;
        try {
            rc = run_sandbox(o);
        } catch (const std::exception& e) {
            if (answered) throw;  // a teardown's failure, after the answer: the log says it
            rc = report_failure(e);
        }
        return answered ? rc : send_done(reply.get(), rc);
    } catch (const std::exception& e) {
        if (checked) throw;  // after "started": not a refusal (the process dies, the worker says so)
        reply_line(reply.get(), {{"launcher", "refused"}, {"error", e.what()}});
        return kExitInternal;
    }
}

// A warm run process (warm_pool.hpp): builds the sandbox of a request for `plugin` with
// the policy's own limits, then waits for a real request on `pool`. Its stdout, stderr
// and reply socket are stand-ins until then (pipes and a socket, as a cold run's are: the
// stdio relay is built for what it will really have) and become the request's by dup2.
int serve_warm(const std::string& state_dir, const std::string& plugin, UniqueFd pool) {
    // The daemon's log, for what goes wrong before a request comes.
    UniqueFd log(::fcntl(2, F_DUPFD_CLOEXEC, 3));
    sys::Pipe out = sys::make_pipe("stdout stand-in"), err = sys::make_pipe("stderr stand-in");
    int pair[2];
    sys::check(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), "socketpair for the reply stand-in");
    UniqueFd reply(pair[0]), reply_peer(pair[1]);
    take_stdio(std::move(out.write), std::move(err.write));

    bool taken = false, discarded = false;
    UniqueFd hold;  // on the plugin, once a request came (run_sandbox.hpp's plugin_held_by_caller)
    std::optional<CheckedRequest> built;
    std::optional<std::vector<std::string>> command;  // the request's; none: the entrypoint
    try {
        // The order names the daemon's state directory, checked once here (the pool is per
        // state directory): a request then pays only for its plugin's manifest and policy.
        const StateDir state(state_dir);
        built.emplace(check_request(json{{"request", {{"plugin", plugin}}}}, state));
        RunOptions o = run_options(state_dir, *built, reply.get());
        o.plugin_held_by_caller = true;
        o.before_command = [&] {
            // MSG_NOSIGNAL: a launcher that discarded us already must not kill us mid-launch
            // (the run directory and cgroup are removed as the launch unwinds).
            if (::send(pool.get(), kWarmReady.data(), kWarmReady.size(), MSG_NOSIGNAL) < 0)
                throw_errno("telling the launcher the warm sandbox is ready");
            std::vector<UniqueFd> fds;
            const std::string text = recv_with_fds(pool.get(), kMaxOrderBytes, fds, "waiting for a request");
            discarded = true;  // until the request is taken
            if (text.empty() || fds.size() != 3) throw Error("warm sandbox discarded");
            std::optional<CheckedRequest> theirs;
            try {
                // Held before the check: the staged tree checked is the one that runs.
                hold = PluginStore(state).hold(plugin);
                theirs.emplace(check_request(json::parse(text), state));
            } catch (const std::exception&) {
                // A cold run gives the reason of its refusal.
            }
            if (!theirs || !same_sandbox(*built, *theirs)) {
                const int back[] = {fds[0].get(), fds[1].get(), fds[2].get()};
                send_with_fds(pool.get(), text, back, "sending a request back to the launcher");
                throw Error("warm sandbox stale");
            }
            // The pool socket stays open until this process ends: its EOF tells the
            // launcher the request is over, when the replacement is built.
            sys::check(::dup3(fds[0].get(), reply.get(), O_CLOEXEC), "dup3 reply");
            sys::check(::dup2(fds[1].get(), 1), "dup2 stdout");
            sys::check(::dup2(fds[2].get(), 2), "dup2 stderr");
            taken = true;
            discarded = false;
            command = theirs->request.argv;
            send_pid_line(reply.get());
            reply_line(reply.get(), {{"launcher", "started"}, {"timeout_sec", built->limits.timeout_sec}, {"warm", true}});
            wait_for_release(reply.get());
        };
        o.command_at_release = [&command] { return command; };
        bool answered = false;
        o.after_report = [&answered, &reply, &log](int rc) {
            answer_before_teardown(reply.get(), rc, log.get());
            answered = true;
        };
        int rc = kExitInternal;
        try {
            rc = run_sandbox(o);
        } catch (const std::exception& e) {
            if (!taken || answered) throw;
            rc = report_failure(e);
        }
        return answered ? rc : send_done(reply.get(), rc);
    } catch (const std::exception& e) {
        if (taken) throw;
        if (!discarded) {
            const std::string line = "aurora-jail host: launcher: warm sandbox for " + plugin + ": " + e.what() + "\n";
            (void)!::write(log.get(), line.data(), line.size());
        }
        return kExitInternal;
    }
}

// A forked run process: never returns into the launcher's loop. It keeps only its
// order's descriptors (not the control socket, not the warm pool's sockets).
[[noreturn]] void run_process(pid_t launcher, const std::string& order, std::vector<UniqueFd> fds) {
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || ::getppid() != launcher) ::_exit(kExitInternal);
    int rc = kExitInternal;
    try {
        helper::close_fds_except({fds[0].get(), fds[1].get(), fds[2].get()});
        reset_signals();
        // The daemon's log (the launcher's stderr), for what goes wrong after the answer.
        const UniqueFd log(::fcntl(2, F_DUPFD_CLOEXEC, 3));
        take_stdio(std::move(fds[1]), std::move(fds[2]));
        rc = serve_order(order, std::move(fds[0]), log.get());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "aurora-jail: run process: %s\n", e.what());
    }
    std::fflush(nullptr);
    ::_exit(rc);
}

// A forked warm run process (warm_pool.hpp), keeping only its pool socket.
[[noreturn]] void warm_process(pid_t launcher, const std::string& state_dir, const std::string& plugin, int pool) {
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || ::getppid() != launcher) ::_exit(kExitInternal);
    int rc = kExitInternal;
    try {
        helper::close_fds_except({pool});
        reset_signals();
        rc = serve_warm(state_dir, plugin, UniqueFd(pool));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "aurora-jail: warm run process: %s\n", e.what());
    }
    std::fflush(nullptr);
    ::_exit(rc);
}

// Forks a warm run process for the pool.
WarmProcess spawn_warm(pid_t self, const std::string& state_dir, const std::string& plugin) {
    int pair[2];
    sys::check(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), "socketpair for a warm sandbox");
    UniqueFd ours(pair[0]), theirs(pair[1]);
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) throw_errno("fork for a warm sandbox");
    if (pid == 0) warm_process(self, state_dir, plugin, theirs.get());
    return WarmProcess{pid, std::move(ours)};
}

// Reaps every run process that has ended; returns how many.
std::size_t reap_runs() {
    std::size_t n = 0;
    int status;
    while (::waitpid(-1, &status, WNOHANG) > 0) ++n;
    return n;
}

// Forks a run process for an order; false (the worker told why) when fork fails.
bool start_run(pid_t self, const std::string& order, std::vector<UniqueFd> fds) {
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) run_process(self, order, std::move(fds));
    if (pid < 0) {
        reply_line(fds[0].get(), {{"launcher", "refused"}, {"error", "sandbox did not start: fork: " + errno_text(errno)}});
        return false;
    }
    return true;
}

// The launcher process's loop: one fork per order (or a warm run process takes it), until
// the daemon closes the socket and the last run has ended.
[[noreturn]] void launcher_main(pid_t daemon, int control, unsigned warm_per_plugin) {
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || ::getppid() != daemon) ::_exit(kExitInternal);
    // Out of the daemon's process group: a terminal's ^C is the daemon's to handle.
    ::setpgid(0, 0);
    // Nothing of the daemon's but the log (stderr) and this socket: not its lock, not the
    // pipe a --daemonize parent waits on.
    if (control != kControlFd && (::dup2(control, kControlFd) < 0 || ::close(control) < 0)) ::_exit(kExitInternal);
    if (::close_range(kControlFd + 1, ~0U, 0) < 0) ::_exit(kExitInternal);
    ::signal(SIGPIPE, SIG_IGN);
    sigset_t chld;
    ::sigemptyset(&chld);
    ::sigaddset(&chld, SIGCHLD);
    ::sigprocmask(SIG_BLOCK, &chld, nullptr);
    UniqueFd child_exits(::signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!child_exits) ::_exit(kExitInternal);
    const pid_t self = ::getpid();
    std::size_t running = 0;  // run processes, warm ones included
    WarmPool pool(warm_per_plugin, [self, &running](const std::string& state_dir, const std::string& plugin) {
        WarmProcess w = spawn_warm(self, state_dir, plugin);
        ++running;
        return w;
    });
    bool open = true;
    while (open || running > 0) {
        const bool take_orders = open && running < kMaxRunProcesses;
        std::vector<pollfd> fds{{take_orders ? kControlFd : -1, POLLIN, 0}, {child_exits.get(), POLLIN, 0}};
        pool.watch(fds);
        if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) ::_exit(kExitInternal);
        if (fds[1].revents) {
            signalfd_siginfo info[8];
            while (::read(child_exits.get(), info, sizeof info) > 0) {}
            running -= std::min(running, reap_runs());
        }
        // Orders a warm run process sent back: cold, as any other.
        for (BouncedOrder& back : pool.on_events(std::span(fds).subspan(2))) {
            std::fprintf(stderr, "aurora-jail host: launcher: a warm sandbox was stale (its plugin was restaged, "
                                 "removed, or its policy changed): its request runs cold\n");
            running += start_run(self, back.order, std::move(back.fds)) ? 1 : 0;
        }
        if (!take_orders || !fds[0].revents) continue;
        std::vector<UniqueFd> got;
        std::string order;
        try {
            order = recv_with_fds(kControlFd, kMaxOrderBytes, got, "reading an order");
        } catch (const Error& e) {
            std::fprintf(stderr, "aurora-jail host: launcher: %s\n", e.what());
            continue;  // the descriptors close: that worker sees its reply end without an answer
        }
        if (order.empty()) {
            open = false;
            pool.discard_all();  // drained: the warm sandboxes end, nothing ran in them
            continue;
        }
        if (got.size() != 3) continue;
        const int handed[] = {got[0].get(), got[1].get(), got[2].get()};
        if (pool.take(order, handed)) continue;
        running += start_run(self, order, std::move(got)) ? 1 : 0;
    }
    ::_exit(0);
}

void append_bounded(std::string& buf, const char* data, std::size_t n, std::size_t max, bool& truncated) {
    const std::size_t room = buf.size() < max ? max - buf.size() : 0;
    if (n > room) truncated = true;
    buf.append(data, std::min(n, room));
}

// The worker's side of one run: the reply's lines, as they come.
struct ReplyState {
    std::string pending;  // bytes after the last newline
    UniqueFd pidfd;
    std::optional<std::uint64_t> timeout_sec;
    bool done = false;
};

void take_reply_line(const std::string& text, ReplyState& state, LaunchedRun& run) {
    json line = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!line.is_object()) return;
    const auto tag = line.find("launcher");
    if (tag == line.end()) {
        run.report = std::move(line);
        return;
    }
    if (*tag == "started" && line.value("timeout_sec", json()).is_number_unsigned()) {
        state.timeout_sec = line["timeout_sec"].get<std::uint64_t>();
        run.warm = line.value("warm", false);
    }
    else if (*tag == "refused")
        run.refused = line.value("error", std::string("refused"));
    else if (*tag == "done" && line.value("rc", json()).is_number_integer()) {
        run.exit_code = line["rc"].get<int>();
        state.done = true;
    }
}

}  // namespace

Launcher Launcher::start(unsigned warm_per_plugin) {
    int pair[2];
    sys::check(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), "socketpair for the launcher");
    UniqueFd ours(pair[0]), theirs(pair[1]);
    const pid_t daemon = ::getpid();
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) throw_errno("fork for the launcher process");
    if (pid == 0) {
        ours.reset();
        launcher_main(daemon, theirs.release(), warm_per_plugin);
    }
    theirs.reset();
    UniqueFd pidfd(sys::pidfd_open(pid));
    if (!pidfd) {
        const int err = errno;
        ::kill(pid, SIGKILL);
        int status;
        sys::retry_eintr([&] { return ::waitpid(pid, &status, 0); });
        throw_errno("pidfd_open for the launcher process", err);
    }
    return Launcher(pid, std::move(ours), std::move(pidfd));
}

void Launcher::stop() {
    if (pid_ <= 0) return;
    control_.reset();  // EOF: the launcher finishes its runs and exits
    int status;
    sys::retry_eintr([&] { return ::waitpid(pid_, &status, 0); });
    pid_ = -1;
}

LaunchedRun Launcher::run(const std::string& name, const Request& request, const std::string& state_dir,
                          const LaunchLimits& limits, const std::function<void()>& before_command) const {
    int pair[2];
    sys::check(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), "socketpair for a run's reply");
    UniqueFd reply(pair[0]), reply_theirs(pair[1]);
    sys::Pipe out = sys::make_pipe("stdout pipe");
    sys::Pipe err = sys::make_pipe("stderr pipe");
    {
        const std::string order =
            dump_json(json{{"name", name}, {"state_dir", state_dir}, {"request", to_json(request)}});
        const int fds[] = {reply_theirs.get(), out.write.get(), err.write.get()};
        try {
            send_with_fds(control_.get(), order, fds, "handing the request to the launcher");
        } catch (const Error& e) {
            throw e.wrap("sandbox did not start: the daemon's launcher process is gone");
        }
    }
    reply_theirs.reset();
    out.write.reset();
    err.write.reset();
    try {
        before_command();
    } catch (const Error&) {
        reply.reset();  // the run process reads EOF where it waits for the release
        throw;
    }
    // A run process that already ended (a refused request) has said why on the reply.
    (void)sys::write_unless_reader_gone(reply.get(), std::string_view(&kCommandRelease, 1), "releasing the run's command");

    LaunchedRun run;
    ReplyState state;
    const auto started = Clock::now();
    std::optional<Clock::time_point> drain_until;  // the run process has ended: output for 1 s more
    bool reply_open = true;
    for (;;) {
        const auto now = Clock::now();
        const auto deadline = started + limits.grace + std::chrono::seconds(state.timeout_sec.value_or(0));
        if (!run.killed_at_deadline && now >= deadline) {
            if (state.pidfd) (void)sys::pidfd_send_signal(state.pidfd.get(), SIGKILL);
            run.killed_at_deadline = true;
            reply_open = false;  // whatever it would still say is not waited for
            reply.reset();
            if (!drain_until) drain_until = now + std::chrono::seconds(1);
        }
        if (!reply_open && !drain_until) drain_until = now + std::chrono::seconds(1);
        if (!reply_open && ((!out.read && !err.read) || now >= *drain_until)) break;
        const auto until = drain_until ? *drain_until : deadline;
        const auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count();
        std::vector<pollfd> fds;
        if (out.read) fds.push_back({out.read.get(), POLLIN, 0});
        if (err.read) fds.push_back({err.read.get(), POLLIN, 0});
        if (reply_open) fds.push_back({reply.get(), POLLIN, 0});
        if (::poll(fds.data(), fds.size(), static_cast<int>(std::max<long long>(wait_ms, 0) + 1)) < 0) {
            if (errno == EINTR) continue;
            throw_errno("poll on a run's output");
        }
        for (const pollfd& p : fds) {
            if (!p.revents) continue;
            if (reply_open && p.fd == reply.get()) {
                std::vector<UniqueFd> got;
                std::string data;
                try {
                    data = recv_with_fds(reply.get(), 65536, got, "reading a run's reply");
                } catch (const Error& e) {
                    // A run process that ended without reading the release: after all it
                    // wrote, the kernel says ECONNRESET once; that is its EOF.
                    if (e.error_number() != ECONNRESET) throw;
                }
                if (!got.empty() && !state.pidfd) state.pidfd = std::move(got.front());
                if (data.empty() || state.pending.size() + data.size() > kMaxReplyBytes) {
                    reply_open = false;
                    continue;
                }
                state.pending += data;
                for (std::size_t nl; (nl = state.pending.find('\n')) != std::string::npos;) {
                    take_reply_line(state.pending.substr(0, nl), state, run);
                    state.pending.erase(0, nl + 1);
                }
                // "done" is the last line: the run process tears its sandbox down after it.
                if (state.done) reply_open = false;
                continue;
            }
            char buf[65536];
            const ssize_t r = sys::retry_eintr([&] { return ::read(p.fd, buf, sizeof buf); });
            const bool is_out = p.fd == out.read.get();
            if (r > 0) {
                const auto n = static_cast<std::size_t>(r);
                if (is_out) append_bounded(run.out, buf, n, limits.max_stdout, run.out_truncated);
                else append_bounded(run.err, buf, n, limits.max_stderr, run.err_truncated);
            } else if (r == 0 || errno != EAGAIN) {
                (is_out ? out.read : err.read).reset();
            }
        }
    }
    if (!state.done) run.exit_code = run.killed_at_deadline ? 128 + SIGKILL : kExitInternal;
    return run;
}

}  // namespace aj::runner
