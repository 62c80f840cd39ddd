#include "oci/hooks.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <set>

#include "policy/error.hpp"
#include "policy/sys.hpp"

namespace aj::oci {

using nlohmann::json;

namespace {

constexpr std::size_t kMaxHookOutput = 4096;

[[noreturn]] void refuse(const std::string& field, const std::string& why) {
    throw Error("config.json: " + field + ": " + why);
}

std::vector<std::string> strings_at(const json& hook, const char* key, const std::string& field) {
    std::vector<std::string> out;
    if (!hook.contains(key)) return out;
    if (!hook.at(key).is_array()) refuse(field + "." + key, "must be an array of strings");
    for (const auto& v : hook.at(key)) {
        if (!v.is_string()) refuse(field + "." + key, "must be an array of strings");
        const std::string s = v.get<std::string>();
        if (s.find('\0') != std::string::npos) refuse(field + "." + key, "holds a NUL byte");
        out.push_back(s);
    }
    return out;
}

std::vector<Hook> parse_list(const json& list, const std::string& field) {
    if (!list.is_array()) refuse(field, "must be an array of hooks");
    std::vector<Hook> out;
    for (std::size_t i = 0; i < list.size(); ++i) {
        const std::string at = field + "[" + std::to_string(i) + "]";
        const json& h = list[i];
        if (!h.is_object()) refuse(at, "must be an object");
        for (const auto& [key, value] : h.items())
            if (key != "path" && key != "args" && key != "env" && key != "timeout")
                refuse(at + "." + key, "not a field of a hook");
        Hook hook;
        if (!h.contains("path") || !h.at("path").is_string()) refuse(at + ".path", "missing");
        hook.path = h.at("path").get<std::string>();
        if (hook.path.empty() || hook.path[0] != '/' || hook.path.find('\0') != std::string::npos)
            refuse(at + ".path", hook.path + " is not an absolute path");
        hook.args = strings_at(h, "args", at);
        hook.env = strings_at(h, "env", at);
        for (const auto& e : hook.env)
            if (e.find('=') == std::string::npos || e[0] == '=') refuse(at + ".env", "entry " + e + " is not NAME=VALUE");
        if (h.contains("timeout")) {
            const json& t = h.at("timeout");
            // The spec: greater than zero. A day bounds it (a hook holds create or delete).
            if (!t.is_number_integer() || t.get<std::int64_t>() <= 0 || t.get<std::int64_t>() > 86400)
                refuse(at + ".timeout", "must be a number of seconds from 1 to 86400");
            hook.timeout_sec = t.get<int>();
        }
        out.push_back(std::move(hook));
    }
    return out;
}

// The hook's process, after fork: the runtime's namespaces, its own stdio, default
// signals, then execve. Never returns; 127 when it could not start (its reason on stderr).
[[noreturn]] void exec_hook(const Hook& hook, int stdin_fd, int output_fd,
                            const std::vector<std::pair<int, int>>& namespace_fds) {
    try {
        for (const auto& [fd, flag] : namespace_fds)
            if (::setns(fd, flag) != 0) throw_errno("returning to the runtime's namespaces (setns)");
        sys::check(::dup2(stdin_fd, 0), "dup2 stdin");
        sys::check(::dup2(output_fd, 1), "dup2 stdout");
        sys::check(::dup2(output_fd, 2), "dup2 stderr");
        sys::check(::close_range(3, ~0U, 0), "close_range");
        // The monitor runs launch(), which blocks the signals it forwards: none of that
        // is the hook's.
        sigset_t none;
        sigemptyset(&none);
        sys::check(::sigprocmask(SIG_SETMASK, &none, nullptr), "unblocking signals");
        for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);
        std::vector<std::string> args = hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
        std::vector<char*> argv, envp;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        std::vector<std::string> env = hook.env;
        for (auto& e : env) envp.push_back(e.data());
        envp.push_back(nullptr);
        ::execve(hook.path.c_str(), argv.data(), envp.data());
        throw_errno("execve " + hook.path);
    } catch (const std::exception& e) {
        const std::string line = std::string(e.what()) + "\n";
        (void)!::write(2, line.data(), line.size());
    }
    ::_exit(127);
}

// What the hook wrote, read while waiting for it: the first kMaxHookOutput bytes kept.
// Returns the wait status, or nullopt when the timeout passed (the hook is then killed).
std::optional<int> wait_for_hook(pid_t pid, int output_fd, std::optional<int> timeout_sec, std::string& output) {
    using Clock = std::chrono::steady_clock;
    const auto deadline = timeout_sec ? std::optional(Clock::now() + std::chrono::seconds(*timeout_sec)) : std::nullopt;
    sys::UniqueFd pidfd(sys::pidfd_open(pid));
    if (!pidfd) throw_errno("watching the hook's process");
    bool output_open = true;
    for (;;) {
        int wait_ms = -1;
        if (deadline) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now()).count();
            if (left <= 0) return std::nullopt;
            wait_ms = static_cast<int>(left);
        }
        pollfd fds[2] = {{pidfd.get(), POLLIN, 0}, {output_open ? output_fd : -1, POLLIN, 0}};
        if (::poll(fds, 2, wait_ms) < 0) {
            if (errno == EINTR) continue;
            throw_errno("waiting for the hook");
        }
        if (fds[1].revents != 0) {
            char buf[1024];
            const ssize_t n = sys::retry_eintr([&] { return ::read(output_fd, buf, sizeof buf); });
            if (n <= 0) output_open = false;
            else if (output.size() < kMaxHookOutput)
                output.append(buf, std::min<std::size_t>(static_cast<std::size_t>(n), kMaxHookOutput - output.size()));
        }
        // Exited: its output may still be held open by a child it left behind, so the
        // status decides; what was written by then is what the error shows.
        if (fds[0].revents != 0) {
            // What it wrote before exiting is in the pipe already: keep it.
            pollfd rest{output_open ? output_fd : -1, POLLIN, 0};
            while (output.size() < kMaxHookOutput && sys::retry_eintr([&] { return ::poll(&rest, 1, 0); }) == 1) {
                char buf[1024];
                const ssize_t n = sys::retry_eintr([&] { return ::read(output_fd, buf, sizeof buf); });
                if (n <= 0) break;
                output.append(buf, std::min<std::size_t>(static_cast<std::size_t>(n), kMaxHookOutput - output.size()));
            }
            int status = 0;
            if (sys::retry_eintr([&] { return ::waitpid(pid, &status, 0); }) != pid) throw_errno("waitpid on the hook");
            return status;
        }
    }
}

void run_hook(const std::string& phase, const Hook& hook, const std::string& state,
              const std::vector<std::pair<int, int>>& namespace_fds) {
    const std::string what = phase + " hook " + hook.path;
    sys::Pipe input = sys::make_pipe("the stdin of the " + what);
    sys::Pipe output = sys::make_pipe("the output of the " + what);
    // The state is written before the hook starts: it fits a pipe (a few KiB; a larger
    // one is refused rather than risking a hook that never reads it blocking us).
    if (state.size() > 60 * 1024) throw Error(what + ": the container's state is too large for its stdin");
    sys::write_all(input.write.get(), state, "writing the state to the " + what);
    input.write.reset();
    const pid_t pid = ::fork();
    if (pid < 0) throw_errno("starting the " + what);
    if (pid == 0) exec_hook(hook, input.read.get(), output.write.get(), namespace_fds);
    input.read.reset();
    output.write.reset();
    std::string out;
    const std::optional<int> status = wait_for_hook(pid, output.read.get(), hook.timeout_sec, out);
    if (!status) {
        ::kill(pid, SIGKILL);
        (void)sys::retry_eintr([&] { return ::waitpid(pid, nullptr, 0); });
        throw Error(what + ": timed out after " + std::to_string(*hook.timeout_sec) + " s" +
                    (out.empty() ? "" : "; output: " + out));
    }
    if (WIFEXITED(*status) && WEXITSTATUS(*status) == 0) return;
    const char* signal_name = WIFSIGNALED(*status) ? ::sigabbrev_np(WTERMSIG(*status)) : nullptr;
    const std::string how = WIFEXITED(*status) ? "exit status " + std::to_string(WEXITSTATUS(*status))
                            : signal_name      ? std::string("killed by SIG") + signal_name
                                               : "killed by signal " + std::to_string(WTERMSIG(*status));
    throw Error(what + ": " + how + (out.empty() ? "" : "; output: " + out));
}

}  // namespace

Hooks parse_hooks(const json& hooks) {
    if (!hooks.is_object()) refuse("hooks", "must be an object");
    Hooks out;
    for (const auto& [name, list] : hooks.items()) {
        const std::string field = "hooks." + name;
        if (name == "prestart") out.prestart = parse_list(list, field);
        else if (name == "createRuntime") out.create_runtime = parse_list(list, field);
        else if (name == "poststart") out.poststart = parse_list(list, field);
        else if (name == "poststop") out.poststop = parse_list(list, field);
        else if (name == "createContainer" || name == "startContainer") {
            if (!list.is_null() && !(list.is_array() && list.empty()))
                refuse(field, "not supported yet (a hook run inside the container's namespaces)");
        } else {
            refuse(field, "not a kind of hook");
        }
    }
    return out;
}

json to_json(const Hooks& hooks) {
    auto list = [](const std::vector<Hook>& v) {
        json out = json::array();
        for (const Hook& h : v) {
            json j{{"path", h.path}, {"args", h.args}, {"env", h.env}};
            if (h.timeout_sec) j["timeout"] = *h.timeout_sec;
            out.push_back(std::move(j));
        }
        return out;
    };
    return json{{"prestart", list(hooks.prestart)},
                {"createRuntime", list(hooks.create_runtime)},
                {"poststart", list(hooks.poststart)},
                {"poststop", list(hooks.poststop)}};
}

void run_hooks(const std::string& phase, const std::vector<Hook>& hooks, const json& state,
               const std::vector<std::pair<int, int>>& namespace_fds) {
    const std::string text = state.dump();
    for (const Hook& hook : hooks) run_hook(phase, hook, text, namespace_fds);
}

}  // namespace aj::oci
