#include "oci/exec.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include <nlohmann/json.hpp>

#include "helper/cgroup_discovery.hpp"
#include "helper/channel.hpp"
#include "helper/env.hpp"
#include "helper/init.hpp"
#include "helper/seccomp_program.hpp"
#include "helper/supervisor.hpp"
#include "oci/config.hpp"
#include "oci/console.hpp"
#include "oci/container_restrictions.hpp"
#include "oci/container_signals.hpp"
#include "oci/container_state.hpp"
#include "oci/exec_process.hpp"
#include "oci/foreground_wait.hpp"
#include "oci/seccomp_profile.hpp"
#include "policy/atomic_write.hpp"
#include "policy/error.hpp"
#include "policy/json_text.hpp"
#include "policy/sys.hpp"

namespace aj::oci {

using nlohmann::json;

namespace {

// Whether the container's memory cgroup holds a limit: the sandbox's rlimits then leave
// RLIMIT_DATA out, as launch() decided for the container's own process (plan_limits).
bool memory_limited_by_cgroup(const std::vector<helper::CgroupHierarchy>& hierarchies) {
    for (const helper::CgroupHierarchy& h : hierarchies) {
        const bool v1 = h.version == helper::CgroupVersion::V1;
        if (v1 && !h.controllers.contains("memory")) continue;
        std::string value;
        try {
            value = sys::read_file(h.own_dir + (v1 ? "/memory.limit_in_bytes" : "/memory.max"), 64);
        } catch (const Error&) {
            continue;  // no memory controller in this v2 directory
        }
        while (!value.empty() && value.back() == '\n') value.pop_back();
        if (value != "max" && !value.empty() && std::strtoull(value.c_str(), nullptr, 10) < (1ULL << 62)) return true;
    }
    return false;
}

// Whether a /proc/PID/uid_map (or gid_map) text maps `id` inside.
bool maps_id(const std::string& map, std::uint32_t id) {
    std::istringstream in(map);
    for (std::uint64_t inside = 0, outside = 0, count = 0; in >> inside >> outside >> count;)
        if (id >= inside && id - inside < count) return true;
    return false;
}

// process.json over the container's restrictions: everything decided before the fork.
ExecPlan plan_exec(const Globals& g, const json& process, const ContainerRestrictions& r, pid_t pid1) {
    ContainerPlan p = plan_exec_process(process, r.policy);
    for (const std::string& w : p.warnings) g.log->warning(w);
    // The ids the container's user namespace maps, read from the kernel (PID 1 is pinned):
    // one uid and gid, a leased block, or the config's ranges (oci/container_ids.hpp).
    const std::string at = "/proc/" + std::to_string(pid1) + "/";
    const std::string uid_map = sys::read_file(at + "uid_map", 1 << 16);
    const std::string gid_map = sys::read_file(at + "gid_map", 1 << 16);
    if (!maps_id(uid_map, p.process.uid))
        throw Error("process.user.uid " + std::to_string(p.process.uid) + ": the container does not map it");
    if (!maps_id(gid_map, p.process.gid))
        throw Error("process.user.gid " + std::to_string(p.process.gid) + ": the container does not map it");
    if (!p.additional_gids.empty()) {
        if (sys::read_file(at + "setgroups", 64) != "allow\n")
            throw Error("process.user.additionalGids: the container's user namespace denies setgroups (it maps one gid)");
        for (const gid_t extra : p.additional_gids)
            if (!maps_id(gid_map, extra))
                throw Error("process.user.additionalGids " + std::to_string(extra) + ": the container does not map it");
    }
    ExecPlan plan;
    plan.argv = p.argv;
    plan.env = helper::build_environment(p.policy.env, nullptr);
    plan.cwd = p.cwd;
    plan.uid = p.process.uid;
    plan.gid = p.process.gid;
    plan.additional_gids = p.additional_gids;
    plan.umask = p.process.umask;
    // Nothing beyond the container's bounding set, which its own process can never regain.
    helper::CapabilitySets caps = p.process.capabilities;
    for (std::uint64_t* set : {&caps.bounding, &caps.effective, &caps.permitted, &caps.inheritable, &caps.ambient})
        *set &= r.bounding;
    if (caps != p.process.capabilities)
        g.log->warning("process.capabilities: narrowed to the container's bounding set");
    plan.capabilities = caps;
    plan.no_new_privs = p.process.no_new_privs || r.no_new_privs;
    const std::string cgroups = sys::read_file("/proc/" + std::to_string(pid1) + "/cgroup", 1 << 16);
    const std::vector<helper::CgroupHierarchy> hierarchies =
        helper::parse_cgroup_hierarchies(cgroups, sys::read_file("/proc/self/mountinfo", 1 << 22));
    for (const helper::CgroupHierarchy& h : hierarchies) plan.cgroup_dirs.push_back(h.own_dir);
    plan.cgroup_lines = limiting_cgroup_lines(cgroups);
    plan.oom_score_adj = sys::read_file("/proc/" + std::to_string(pid1) + "/oom_score_adj", 16);
    while (!plan.oom_score_adj.empty() && plan.oom_score_adj.back() == '\n') plan.oom_score_adj.pop_back();
    plan.rlimits = helper::plan_rlimits(p.policy, helper::RlimitScope::OwnUserNamespace,
                                        p.policy.limits.memory_mb && memory_limited_by_cgroup(hierarchies));
    // runc gives an exec whose process.json lists no rlimits the config's.
    const bool own_rlimits = process.contains("rlimits") && !process.at("rlimits").is_null();
    plan.requested_rlimits = own_rlimits ? p.process.rlimits : r.rlimits;
    // The container's program, its refusals answered by the kernel with the same errno
    // (the container's own supervisor holds only its own filter's listener).
    plan.seccomp = helper::seccomp_program_for(r.policy, policy::DenialDelivery::Kernel);
    if (!r.seccomp_profile.is_null()) plan.profile = compile_seccomp_profile(r.seccomp_profile);
    plan.terminal = p.terminal;
    return plan;
}

// The child's one line ("CODE message"), or an empty string once it has exec'd.
std::string read_failure(int fd) {
    std::string text;
    char buf[512];
    for (;;) {
        const ssize_t n = sys::retry_eintr([&] { return ::read(fd, buf, sizeof buf); });
        if (n < 0) throw_errno("waiting for the exec'd process");
        if (n == 0) return text;
        if (text.size() < 4096) text.append(buf, static_cast<std::size_t>(n));
    }
}

// The terminal's master, as the child sends it once inside the container (an empty fd:
// the child ended before, and its error line says why).
sys::UniqueFd receive_terminal(int channel) {
    std::string bytes;
    std::vector<sys::UniqueFd> fds;
    if (helper::receive_report(channel, bytes, fds) == 0) return {};
    const std::vector<helper::Message> messages = helper::take_messages(bytes);
    if (messages.size() != 1 || messages[0].kind != helper::MessageKind::Terminal || fds.size() != 1)
        throw Error("the exec'd process sent something other than its terminal");
    return std::move(fds[0]);
}

}  // namespace

int cmd_exec(const Globals& g, const ExecOptions& o) {
    if (o.process_file.empty()) throw Error("exec: --process FILE is required (the process's arguments are not supported)");
    json process = policy::read_json_text(sys::read_file(o.process_file, 1 << 20), o.process_file);
    if (!process.is_object()) throw Error("--process " + o.process_file + ": not a JSON object");
    if (o.tty) process["terminal"] = true;  // runc's --tty overrides process.json
    // runc's rule and words, checked before anything runs: a terminal's master needs a
    // socket to go to (this command never relays one itself), a socket needs a terminal.
    const auto terminal_asked = process.find("terminal");
    check_console_options(terminal_asked != process.end() && *terminal_asked == true, o.console_socket);
    sys::UniqueFd root = open_state_root(g.root);
    const Container container(root.get(), o.id);
    const Status status = container.status();
    // Its process would join a frozen cgroup and hang there, and the engine with it.
    if (status == Status::Paused) throw Error("cannot exec in a paused container");
    if (status != Status::Running) throw Error("container not running");
    const RecordedState& s = container.recorded();
    // Pinned before it is checked: a pid reused since is never joined.
    const sys::UniqueFd pid1(sys::pidfd_open(s.pid));
    if (!pid1 || !Container::same_live_process(s.pid, s.pid_start)) throw Error("container not running");
    const ExecPlan plan = plan_exec(g, process, read_container_restrictions(container.dir_fd(), s.id), s.pid);

    // The exec'd process is born in the container's pid namespace: this process's
    // children are, from the setns to the fork; then its own again (a setns to one's own
    // pid namespace is always allowed), so nothing it forks later (LeakSanitizer's tracer
    // at exit, in the sanitizer build) lands in the container where it cannot see us.
    const sys::UniqueFd own_pid_ns(::open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC));
    if (!own_pid_ns) throw_errno("opening this process's pid namespace");
    sys::check(::setns(pid1.get(), CLONE_NEWPID), "joining the container's pid namespace (setns)");
    const helper::BlockedSignals signals(helper::init_forwarded_signals());
    sys::Pipe failure = sys::make_pipe("creating the exec error pipe");
    sys::Pipe terminal;  // child -> this command: the terminal's master (plan.terminal only)
    if (plan.terminal) terminal = helper::make_report_channel();
    std::fflush(nullptr);
    const pid_t child = ::fork();
    if (child < 0) throw_errno("forking the exec'd process");
    if (child == 0) {
        failure.read.reset();
        terminal.read.reset();
        run_exec_process(plan, pid1.get(), failure.write.get(), terminal.write ? terminal.write.get() : -1);
    }
    sys::check(::setns(own_pid_ns.get(), CLONE_NEWPID), "returning to this process's pid namespace (setns)");
    failure.write.reset();
    terminal.write.reset();
    if (plan.terminal) {
        // The master reaches the engine before this command returns; the process may
        // already run meanwhile (its output waits in the terminal), and is killed if the
        // engine cannot take it, so that no process runs on a terminal no one holds.
        try {
            const sys::UniqueFd master = receive_terminal(terminal.read.get());
            if (master) send_console_master(o.console_socket, master.get());
        } catch (const Error&) {
            (void)::kill(child, SIGKILL);  // our own unreaped child: the pid is still its
            (void)sys::retry_eintr([&] { return ::waitpid(child, nullptr, 0); });
            throw;
        }
    }
    const std::string line = read_failure(failure.read.get());
    if (!line.empty()) {
        (void)sys::retry_eintr([&] { return ::waitpid(child, nullptr, 0); });
        std::string message = line.substr(line.find(' ') + 1);
        while (!message.empty() && message.back() == '\n') message.pop_back();
        // runc's wording: podman tells a missing command (127) from its message.
        throw Error("exec failed: unable to start container process: " + message);
    }
    if (!o.pid_file.empty()) {
        std::string pid_file = o.pid_file;
        if (pid_file[0] != '/') {
            char cwd[4096];
            if (!::getcwd(cwd, sizeof cwd)) throw_errno("getcwd");
            pid_file = std::string(cwd) + "/" + pid_file;
        }
        sys::write_file_atomic(pid_file, std::to_string(child), 0644);
    }
    if (o.detach) return 0;
    return wait_forwarding(child, signals.fd(), [&child](int sig) {
        // Our own unreaped child: the pid is still its.
        (void)::kill(child, sig);
    });
}

int cmd_ps(const Globals& g, const std::string& id, const std::string& format) {
    if (format != "table" && format != "json") throw Error("invalid format option " + format);
    sys::UniqueFd root = open_state_root(g.root);
    const Container container(root.get(), id);
    if (container.status() == Status::Stopped) throw Error("container not running");
    std::vector<pid_t> pids;
    for (const PinnedProcess& p : pid_namespace_members(container.recorded().pid)) pids.push_back(p.pid);
    std::sort(pids.begin(), pids.end());
    if (format == "json") {
        std::printf("%s\n", json(pids).dump().c_str());
        return 0;
    }
    std::printf("%-8s %s\n", "PID", "CMD");
    for (const pid_t pid : pids) {
        std::string cmdline;
        try {
            cmdline = sys::read_file("/proc/" + std::to_string(pid) + "/cmdline", 4096);
        } catch (const Error&) {
            continue;  // ended meanwhile
        }
        std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
        while (!cmdline.empty() && cmdline.back() == ' ') cmdline.pop_back();
        std::printf("%-8d %s\n", pid, cmdline.c_str());
    }
    return 0;
}

}  // namespace aj::oci
