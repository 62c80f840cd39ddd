// create/start/state/kill/delete/features. The create/start protocol (a monitor process
// running launch(), waiting in its before_command hook on the container's start fifo) is
// described in docs/oci.md, "create and start".
#include "oci/commands.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>

#include <nlohmann/json.hpp>

#include "helper/fds.hpp"
#include "helper/id_pool.hpp"
#include "helper/launch.hpp"
#include "helper/userns.hpp"
#include "oci/config.hpp"
#include "oci/console.hpp"
#include "oci/container_cgroup.hpp"
#include "oci/container_freezer.hpp"
#include "oci/container_ids.hpp"
#include "oci/container_restrictions.hpp"
#include "oci/seccomp_profile.hpp"
#include "oci/container_signals.hpp"
#include "oci/container_state.hpp"
#include "oci/device_nodes.hpp"
#include "oci/namespace_join.hpp"
#include "oci/rootfs_root.hpp"
#include "oci/start_wait.hpp"
#include "policy/atomic_write.hpp"
#include "policy/error.hpp"
#include "policy/policy_dirs.hpp"
#include "policy/sys.hpp"
#include "runner/report.hpp"
#include "runner/run_registry.hpp"

namespace aj::oci {

using nlohmann::json;

namespace {

constexpr const char* kReady = "ok\n";

sys::UniqueFd open_dir(const std::string& path) {
    return sys::open_fd(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, "opening " + path);
}

std::string absolute_path(const std::string& path, const std::string& what) {
    char resolved[PATH_MAX];
    if (!::realpath(path.c_str(), resolved)) throw_errno(what + " " + path);
    return resolved;
}

// The monitor's end of the start fifo, opened before create reports the container: a
// `start` that follows at once must find a reader (its O_NONBLOCK open fails with ENXIO,
// "container not running", while none exists). Read and write: the monitor is a writer
// too, so the fifo never reads as hung up, and `start`'s byte waits in it until read.
sys::UniqueFd open_start_fifo(int dir_fd) {
    sys::UniqueFd fifo(::openat(dir_fd, kStartFifo, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW));
    if (!fifo) throw_errno("opening the start fifo");
    return fifo;
}

// Blocks until `start` writes its byte into the fifo, or the sandbox's PID 1 dies (a kill
// or delete --force of a created container, a root that could not be built).
void wait_for_start(int fifo, int pid1_fd) {
    for (;;) {
        pollfd fds[2] = {{fifo, POLLIN, 0}, {pid1_fd, POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            throw_errno("waiting for start");
        }
        // PID 1 died (killed, or its root could not be built): returning lets launch()
        // collect PID 1's own report of why; a dead PID 1 forks nothing.
        if (fds[1].revents != 0) return;
        if (fds[0].revents == 0) continue;
        char byte = 0;
        const ssize_t n = sys::retry_eintr([&] { return ::read(fifo, &byte, 1); });
        if (n == 1) return;
        if (n < 0 && errno != EAGAIN) throw_errno("reading the start fifo");
    }
}

// The monitor: a detached, single-threaded child of `create` that runs the container
// through launch() and records how it ended. Never returns.
[[noreturn]] void run_monitor(const Globals& g, const CreateOptions& o, const ContainerPlan& plan,
                              IdMapping id_mapping, const IdContext& id_context,
                              const std::optional<ContainerCgroups>& cgroups,
                              sys::UniqueFd ready) {
    int status = 1;
    try {
        // `run` blocks the signals it forwards before it creates: the monitor, its hooks
        // and the sandbox start from none blocked, as under an engine.
        sigset_t none;
        sigemptyset(&none);
        sys::check(::sigprocmask(SIG_SETMASK, &none, nullptr), "unblocking signals");
        ::setsid();
        // A terminal container's stdio is its terminal: the monitor keeps nothing of
        // create's for the container's life (containerd's shim reads create's output to
        // EOF before it takes the console, and would wait for the container forever). Its
        // later diagnostics go to --log alone.
        if (plan.terminal) helper::release_stdio();
        // In the container's cgroup before anything is forked: the sandbox's cgroup is
        // made below it (helper/cgroup.hpp: below the caller's own), and every process of
        // the container, PID 1 first, is inside it from its start.
        if (cgroups) join_container_cgroups(*cgroups, ::getpid());
        // Without linux.cgroupsPath on cgroup v2: the sandbox's cgroup beneath the freezer's
        // (container_freezer.hpp), never in a systemd scope of its own outside it.
        if (const std::optional<std::string> parent = cgroups ? sandbox_parent_in_freezer(*cgroups) : std::nullopt)
            sys::check(::setenv("AURORA_JAIL_CGROUP_PARENT", parent->c_str(), 1), "setenv AURORA_JAIL_CGROUP_PARENT");
        // Nothing the engine left open (its sync pipes, sockets) stays held for the
        // container's life, nor reaches the sandbox's PID 1.
        std::vector<int> keep{ready.get(), g.log->fd(), plan.rootfs_dir.get()};
        for (const JoinedNamespace& ns : plan.joined_namespaces) keep.push_back(ns.fd.get());
        helper::close_fds_except(keep);
        // Held until the container is over: its ids are nobody else's meanwhile.
        std::vector<std::string> id_warnings;
        ContainerIds ids = lease_container_ids(plan, id_mapping, id_context, id_warnings);
        for (const auto& w : id_warnings) g.log->warning("container " + o.id + ": " + w);
        helper::LaunchRequest request{plan.policy, plan.argv};
        request.filesystems = plan.filesystems;
        for (const auto& w : drop_unmapped_id_options(request.filesystems, ids, plan.process.uid, plan.process.gid))
            g.log->warning("container " + o.id + ": " + w);
        request.sysctls = plan.sysctls;
        request.masked_paths = plan.masked_paths;
        request.readonly_paths = plan.readonly_paths;
        request.process = plan.process;
        request.process->additional_gids = ids.additional_gids;
        request.id_maps = ids.maps;
        request.devices = plan.devices;
        request.host_ids = ids.host;
        // A root caller's container root is its rootfs, idmapped with the sandbox's own
        // maps where the guard allows (rootfs_root.hpp). Its trees are held until launch()
        // returns: PID 1 attaches them.
        std::optional<helper::Identity> identity;
        if (::geteuid() == 0) identity = helper::choose_identity(request.host_ids, request.process, request.id_maps);
        ContainerFiles files = container_files(plan, identity ? &*identity : nullptr);
        for (const auto& w : files.warnings) g.log->warning("container " + o.id + ": " + w);
        request.extra_binds = std::move(files.binds);
        request.container = std::move(files.layout);
        // The config's device nodes, made here in the host's user namespace and attached
        // by PID 1 (device_nodes.hpp); anyone else binds the host's (create, plan.devices).
        const MadeDevices made_devices(can_make_device_nodes() ? plan.device_nodes : std::vector<DeviceNode>{});
        request.device_trees = made_devices.trees();
        // The master goes to the engine's socket before create returns (console.hpp).
        if (plan.terminal) request.terminal = container_terminal(*plan.terminal, o.console_socket);
        request.cwd = plan.cwd;
        request.extra_seccomp = plan.seccomp_program;
        // Last before the clone: the monitor itself moves into the namespaces the config
        // names, which PID 1 then inherits (namespace_join.hpp). The bundle was captured in
        // the caller's namespaces above.
        const std::vector<JoinedNamespace> runtime_namespaces = own_namespaces(plan.joined_namespaces);
        join_namespaces(plan.joined_namespaces);
        request.shared_namespaces = plan.shared_namespaces;
        request.describe_enforcement = false;
        request.confirm_host_ids = [&ids] {
            if (ids.lease) ids.lease->confirm_unknown_to_nss();
        };
        const std::string dir_path = g.root + "/" + o.id;
        request.before_command = [&](pid_t pid1) {
            // Owned as the config says, through the namespace's maps, before anything of
            // the container runs.
            for (const std::string& w : made_devices.set_owners(pid1)) g.log->warning(w);
            // The process forks from PID 1 and inherits its score. Lowering it needs
            // CAP_SYS_RESOURCE: without it, create fails here, naming the value.
            if (plan.oom_score_adj)
                sys::write_file("/proc/" + std::to_string(pid1) + "/oom_score_adj",
                                std::to_string(*plan.oom_score_adj));
            // Opened after the clone: the sandbox's PID 1 never holds the state directory.
            sys::UniqueFd dir = open_dir(dir_path);
            // Both before create returns (a `start` may follow at once).
            const sys::UniqueFd fifo = open_start_fifo(dir.get());
            const sys::UniqueFd pid1_fd(sys::pidfd_open(pid1));
            if (!pid1_fd) throw_errno("watching the container's init");
            RecordedState s;
            s.id = o.id;
            s.bundle = o.bundle;
            s.rootfs = plan.rootfs;
            s.created = runner::utc_timestamp();
            s.owner = std::to_string(::geteuid());
            s.annotations = plan.annotations;
            s.joined_namespaces = describe(plan.joined_namespaces);
            s.pid = pid1;
            s.pid_start = runner::process_start_time(pid1).value_or(0);
            s.monitor = ::getpid();
            s.monitor_start = runner::process_start_time(s.monitor).value_or(0);
            sys::write_file_atomic(dir.get(), kStateFile, to_json(s).dump());
            // Before create returns: one failing fails create, which removes the container.
            const json hook_state = state_document(s, Status::Created);
            run_hooks("prestart", plan.hooks.prestart, hook_state, setns_pairs(runtime_namespaces));
            run_hooks("createRuntime", plan.hooks.create_runtime, hook_state, setns_pairs(runtime_namespaces));
            sys::write_all(ready.get(), kReady, "telling create the container exists");
            ready.reset();
            wait_for_start(fifo.get(), pid1_fd.get());
        };
        const helper::LaunchResult result = helper::launch(request);
        status = result.exit_code;
        json exit{{"exit_code", result.exit_code}};
        if (result.signal) exit["signal"] = *result.signal;
        sys::write_file_atomic(open_dir(dir_path).get(), kExitFile, exit.dump());
    } catch (const std::exception& e) {
        // The engine reaps this process as the container's (its --pid-file names it):
        // a command that was not found or could not run ends it with 127 or 126.
        if (const auto* error = dynamic_cast<const Error*>(&e)) status = error->exit_code();
        if (ready) {
            (void)!::write(ready.get(), e.what(), std::strlen(e.what()));
        } else {
            g.log->error(std::string("container ") + o.id + ": " + e.what());
            try {
                sys::write_file_atomic(open_dir(g.root + "/" + o.id).get(), kExitFile, R"({"exit_code":125})");
            } catch (const std::exception&) {
                // delete --force may have removed the directory already.
            }
        }
    }
    std::fflush(nullptr);
    ::_exit(status);
}

// Waits (up to `seconds`) for the recorded process to be gone.
void wait_gone(pid_t pid, unsigned long long start, int seconds) {
    if (!Container::same_live_process(pid, start)) return;
    sys::UniqueFd pidfd(sys::pidfd_open(pid));
    if (!pidfd) return;  // gone meanwhile
    if (!Container::same_live_process(pid, start)) return;
    pollfd p{pidfd.get(), POLLIN, 0};
    if (sys::retry_eintr([&] { return ::poll(&p, 1, seconds * 1000); }) == 0)
        throw Error("process " + std::to_string(pid) + " still running after " + std::to_string(seconds) + " s");
}

// Signals the recorded process through a pidfd, after checking it is still the one recorded.
void signal_recorded(pid_t pid, unsigned long long start, int sig) {
    sys::UniqueFd pidfd(sys::pidfd_open(pid));
    if (!pidfd || !Container::same_live_process(pid, start)) throw Error("container not running");
    if (sys::pidfd_send_signal(pidfd.get(), sig) != 0 && errno != ESRCH)
        throw_errno("sending signal " + std::to_string(sig) + " to " + std::to_string(pid));
}

// kill's delivery to a started container (running or paused).
void signal_started(const RecordedState& s, int sig, bool all) {
    auto send = [&](const PinnedProcess& p) {
        if (sys::pidfd_send_signal(p.pidfd.get(), sig) != 0 && errno != ESRCH)
            throw_errno("sending signal " + std::to_string(sig) + " to " + std::to_string(p.pid));
    };
    if (all) {
        // Every process of the container's pid namespace. PID 1 passes each catchable
        // signal on to the user's process, which would then get it twice: PID 1 itself
        // takes only STOP and CONT, and KILL once nothing else is left (killed along with
        // the others, it could not report how the process ended).
        const std::vector<PinnedProcess> members = pid_namespace_members(s.pid);
        for (const PinnedProcess& p : members)
            if (p.pid != s.pid || sig == SIGSTOP || sig == SIGCONT || (sig == SIGKILL && members.size() == 1)) send(p);
        return;
    }
    if (sig == SIGSTOP || sig == SIGCONT || sig == SIGKILL) {
        // SIGSTOP would stop PID 1 itself, which passes nothing on while stopped; SIGKILL
        // would end PID 1 before it reports the process's end (the engine would see no
        // exit status, where runc's gives 137). These go to the user's process, and CONT
        // to PID 1 too (stopped by a kill --all STOP).
        if (std::optional<PinnedProcess> command = container_command(s.pid)) {
            send(*command);
            if (sig != SIGCONT) return;
        } else if (sig == SIGSTOP) {
            return;
        }
    }
    // PID 1 forwards every other signal to the process (helper::init_forwarded_signals);
    // SIGKILL with no process left ends PID 1 and the whole pid namespace.
    signal_recorded(s.pid, s.pid_start, sig);
}

}  // namespace

int parse_signal(const std::string& text) {
    if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos && text.size() <= 2) {
        const long n = std::strtol(text.c_str(), nullptr, 10);  // one or two digits: no overflow
        if (n >= 1 && n <= SIGRTMAX) return static_cast<int>(n);
    }
    std::string name = text;
    for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (name.starts_with("SIG")) name = name.substr(3);
    for (int n = 1; n < NSIG; ++n) {
        const char* abbrev = ::sigabbrev_np(n);
        if (abbrev && name == abbrev) return n;
    }
    throw Error("unknown signal \"" + text + "\"");
}

int cmd_create(const Globals& g, const CreateOptions& o_in) {
    CreateOptions o = o_in;
    if (!valid_container_id(o.id)) throw Error("invalid container ID format");
    o.bundle = absolute_path(o.bundle.empty() ? "." : o.bundle, "--bundle");
    ContainerPlan plan = plan_container(o.bundle, policy::policy_search_dirs(""));
    // NSS is listed once, here (about 2 ms): for the config's ranges, and for the monitor's block.
    const IdContext id_context = current_id_context();
    const IdMapping id_mapping = choose_id_mapping(plan, id_context);
    // Only host root can make the config's nodes: anyone else gets the host's own bound,
    // or a refusal naming why (device_nodes.hpp).
    if (!can_make_device_nodes()) plan.devices = host_device_binds(plan.device_nodes, plan.warnings);
    for (const auto& w : plan.warnings) g.log->warning(w);
    if (plan.terminal && o.foreground_console) o.console_socket = o.foreground_console();
    check_console_options(plan.terminal.has_value(), o.console_socket);
    if (!o.console_socket.empty() && o.console_socket[0] != '/')
        o.console_socket = absolute_path(".", "the current directory") + "/" + o.console_socket;
    std::optional<CgroupsPath> cgroups_path;
    if (!plan.cgroups_path.empty()) cgroups_path = parse_cgroups_path(plan.cgroups_path, g.systemd_cgroup);

    sys::UniqueFd root = open_state_root(g.root);
    if (::mkdirat(root.get(), o.id.c_str(), 0700) != 0) {
        if (errno == EEXIST) throw Error("container with given ID already exists");
        throw_errno("creating the state directory of container " + o.id);
    }
    pid_t monitor = -1;
    std::optional<ContainerCgroups> cgroups;
    try {
        sys::UniqueFd dir(::openat(root.get(), o.id.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!dir) throw_errno("opening the state directory of container " + o.id);
        if (::mkfifoat(dir.get(), kStartFifo, 0600) != 0) throw_errno("creating the start fifo");
        if (cgroups_path) {
            std::vector<std::string> warnings;
            cgroups = make_container_cgroups(*cgroups_path, plan.cgroup_writes, warnings);
            for (const auto& w : warnings) g.log->warning(w);
        } else {
            // pause's freezer (container_freezer.hpp); none is no failure, only pause's.
            cgroups = make_freezer_cgroup(o.id);
        }
        // Recorded before anything joins it: delete removes what create made.
        sys::write_file_atomic(dir.get(), kCgroupFile, to_json(*cgroups).dump());
        // start and delete run the poststart and poststop hooks from here, never from the
        // bundle again (which may have changed since).
        if (!plan.hooks.empty()) sys::write_file_atomic(dir.get(), kHooksFile, to_json(plan.hooks).dump());
        // exec holds every new process to the container's own restrictions, as they are now.
        sys::write_file_atomic(dir.get(), kRestrictionsFile,
                               to_json(ContainerRestrictions{plan.policy, plan.process.uid, plan.process.gid,
                                                             plan.process.capabilities.bounding,
                                                             plan.process.no_new_privs, plan.seccomp_profile,
                                                             plan.process.rlimits, plan.limit_ceiling})
                                   .dump());
        dir.reset();

        sys::Pipe ready = sys::make_pipe("creating the create/monitor pipe");
        std::fflush(nullptr);
        monitor = ::fork();
        if (monitor < 0) throw_errno("forking the container's monitor");
        if (monitor == 0) {
            ready.read.reset();
            root.reset();
            run_monitor(g, o, plan, id_mapping, id_context, cgroups, std::move(ready.write));
        }
        ready.write.reset();
        // One line: "ok\n", or the monitor's error. The sandbox's PID 1 holds a copy of the
        // write end, so this reads up to the newline rather than to EOF.
        std::string answer;
        char c = 0;
        while (answer.size() < 4096) {
            const ssize_t n = sys::retry_eintr([&] { return ::read(ready.read.get(), &c, 1); });
            if (n < 0) throw_errno("waiting for the container's monitor");
            if (n == 0) break;
            answer += c;
            if (c == '\n' && answer == kReady) break;
        }
        if (answer != kReady) {
            throw Error(answer.empty() ? std::string("the container's monitor ended before the container was created")
                                       : answer);
        }
        if (!o.pid_file.empty()) {
            // The monitor, not the sandbox's PID 1: this process's child, so the engine
            // (conmon, containerd's shim: child subreapers) inherits it when create exits,
            // reaps it and reads the container's exit status from it; PID 1 is the
            // monitor's child and no engine could reap it. state's pid stays PID 1, a
            // process in the container's namespaces (docs/oci.md, "The container's pid").
            std::string pid_file = o.pid_file;
            if (pid_file[0] != '/') pid_file = absolute_path(".", "the current directory") + "/" + pid_file;
            sys::write_file_atomic(pid_file, std::to_string(monitor), 0644);
        }
    } catch (...) {
        // Nothing of the container may outlive a failed create.
        try {
            const Container container(root.get(), o.id);
            const RecordedState& s = container.recorded();
            if (Container::same_live_process(s.pid, s.pid_start)) signal_recorded(s.pid, s.pid_start, SIGKILL);
            wait_gone(s.monitor, s.monitor_start, 10);
            // The container existed (a prestart or createRuntime hook failed, say): its
            // lifecycle goes on at the poststop hooks, as a delete's would.
            try {
                run_hooks("poststop", plan.hooks.poststop, state_document(s, Status::Stopped));
            } catch (const Error& e) {
                g.log->warning("container " + o.id + ": " + e.what());
            }
        } catch (const Error&) {
            // No state recorded: the monitor ended before the sandbox existed.
        }
        if (monitor > 0) (void)sys::retry_eintr([&] { return ::waitpid(monitor, nullptr, 0); });
        if (cgroups) {
            try {
                remove_container_cgroups(*cgroups);
            } catch (const Error& e) {
                g.log->warning(e.what());
            }
        }
        remove_container_dir(root.get(), o.id);
        throw;
    }
    return 0;
}

int cmd_start(const Globals& g, const std::string& id) {
    sys::UniqueFd root = open_state_root(g.root);
    const Container container(root.get(), id);
    switch (container.status()) {
        case Status::Stopped: throw Error("cannot start a container that has stopped");
        case Status::Running: throw Error("cannot start an already running container");
        case Status::Paused: throw Error("cannot start a container in the paused state");
        case Status::Created: break;
    }
    // Without a reader (the monitor gone) open fails with ENXIO instead of blocking.
    sys::UniqueFd fifo(::openat(container.dir_fd(), kStartFifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW));
    if (!fifo) {
        if (errno == ENXIO || errno == ENOENT) throw Error("container not running");
        throw_errno("opening the start fifo of container " + id);
    }
    sys::write_all(fifo.get(), "s", "starting container " + id);
    // As runc's start, once the process runs its program (start_wait.hpp).
    (void)wait_for_command_exec(container.recorded().pid, container.recorded().pid_start, std::chrono::seconds(5),
                                std::chrono::milliseconds(200));
    sys::UniqueFd started(::openat(container.dir_fd(), kStartedFile, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!started) throw_errno("recording that container " + id + " started");
    // The process was released: its state for the hooks is "running" (it may end before
    // they read it). A failing poststart hook is logged; the container goes on.
    try {
        run_hooks("poststart", container.hooks().poststart, state_document(container.recorded(), Status::Running));
    } catch (const Error& e) {
        g.log->warning("container " + id + ": " + e.what());
    }
    return 0;
}

int cmd_state(const Globals& g, const std::string& id) {
    sys::UniqueFd root = open_state_root(g.root);
    const Container container(root.get(), id);
    std::printf("%s\n", container.state_json().dump(2).c_str());
    return 0;
}

int cmd_kill(const Globals& g, const std::string& id, const std::string& signal_text, bool all) {
    const int sig = parse_signal(signal_text.empty() ? "TERM" : signal_text);
    sys::UniqueFd root = open_state_root(g.root);
    const Container container(root.get(), id);
    const RecordedState& s = container.recorded();
    const Status status = container.status();
    if (status == Status::Stopped) throw Error("container not running");
    if (status == Status::Created) {
        // No process exists yet to take the signal: one whose default action is to end a
        // process ends the container as a whole (its pid namespace dies with PID 1); the
        // default-ignored ones change nothing, as they would not for a process.
        if (sig == SIGCHLD || sig == SIGCONT || sig == SIGURG || sig == SIGWINCH) return 0;
        signal_recorded(s.pid, s.pid_start, SIGKILL);
        return 0;
    }
    if (!Container::same_live_process(s.pid, s.pid_start)) throw Error("container not running");
    signal_started(s, sig, all);
    // A paused container's processes take a SIGKILL only once thawed (v1's freezer; on v2
    // the killed process wakes, but PID 1, which reports its end, stays frozen): the kill
    // ends it for real. Any other signal waits, pending, for resume.
    if (status == Status::Paused && sig == SIGKILL) thaw_container_cgroups(container.cgroups().value_or(ContainerCgroups{}));
    return 0;
}

int cmd_delete(const Globals& g, const std::string& id, bool force) {
    sys::UniqueFd root = open_state_root(g.root);
    std::optional<Container> container;
    try {
        container.emplace(root.get(), id);
    } catch (const Error& e) {
        // runc: deleting what is not there with --force succeeds.
        if (force && std::string(e.what()) == "container does not exist") {
            remove_container_dir(root.get(), id);
            return 0;
        }
        throw;
    }
    const RecordedState& s = container->recorded();
    const Status status = container->status();
    if (status != Status::Stopped) {
        if (!force) throw Error("cannot delete container " + id + " that is not stopped: " + status_name(status));
        signal_recorded(s.pid, s.pid_start, SIGKILL);
    }
    // The container's cgroups: what create made of them (container_cgroup.hpp).
    const std::optional<ContainerCgroups> cgroups = container->cgroups();
    // A paused container's PID 1 and monitor end only once thawed (kill, above).
    if (cgroups) thaw_container_cgroups(*cgroups);
    wait_gone(s.monitor, s.monitor_start, 10);
    if (cgroups) remove_container_cgroups(*cgroups);
    // The container is gone: its poststop hooks run before its state is. A failing one is
    // logged; the delete goes on.
    try {
        run_hooks("poststop", container->hooks().poststop, state_document(s, Status::Stopped));
    } catch (const Error& e) {
        g.log->warning("container " + id + ": " + e.what());
    }
    container.reset();
    remove_container_dir(root.get(), id);
    return 0;
}

int cmd_features() {
    const json features{
        {"ociVersionMin", "1.0.0"},
        {"ociVersionMax", "1.1.0"},
        {"hooks", {"prestart", "createRuntime", "poststart", "poststop"}},
        {"mountOptions", {"bind", "nodev", "nosuid", "private", "rbind", "ro", "rprivate", "rslave", "rw", "slave"}},
        {"linux",
         {{"namespaces", {"cgroup", "ipc", "mount", "network", "pid", "user", "uts"}},
          {"capabilities", json::array()},
          {"cgroup", {{"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}}},
          {"seccomp",
           {{"enabled", true},
            {"actions", seccomp_profile_actions()},
            {"operators", seccomp_profile_operators()},
            {"archs", seccomp_profile_archs()},
            {"knownFlags", seccomp_profile_known_flags()},
            {"supportedFlags", seccomp_profile_supported_flags()}}},
          {"apparmor", {{"enabled", false}}},
          {"selinux", {{"enabled", false}}}}},
        {"annotations", {{"io.aurora-jail.version", AJ_VERSION}}}};
    std::printf("%s\n", features.dump(2).c_str());
    return 0;
}

}  // namespace aj::oci
