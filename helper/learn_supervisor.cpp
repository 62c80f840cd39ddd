#include "helper/learn_supervisor.hpp"

#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <poll.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

#include "policy/syscall_names.hpp"

namespace aj::helper {

namespace {

std::string read_link(const std::string& path) {
    char buf[PATH_MAX];
    const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

// The NUL-terminated string at `addr` in process `pid`, read page by page (a string near
// the end of a mapping must not fail for the bytes after it). Empty when unreadable.
std::string read_string(pid_t pid, std::uint64_t addr) {
    sys::UniqueFd mem(::open(("/proc/" + std::to_string(pid) + "/mem").c_str(), O_RDONLY | O_CLOEXEC));
    if (!mem || addr == 0) return {};
    constexpr std::uint64_t kPage = 4096;
    std::string out;
    while (out.size() < PATH_MAX) {
        char buf[kPage];
        const std::size_t want = static_cast<std::size_t>(kPage - (addr % kPage));
        const ssize_t n = ::pread(mem.get(), buf, want, static_cast<off_t>(addr));
        if (n <= 0) return {};
        const std::string_view got(buf, static_cast<std::size_t>(n));
        const std::size_t nul = got.find('\0');
        if (nul != std::string_view::npos) return out.append(got.substr(0, nul));
        out.append(got);
        addr += static_cast<std::uint64_t>(n);
    }
    return {};
}

}  // namespace

std::string lexically_normal(const std::string& absolute) {
    std::string out = std::filesystem::path(absolute).lexically_normal().string();
    while (out.size() > 1 && out.back() == '/') out.pop_back();
    return out;
}

LearnSupervisor::LearnSupervisor(const policy::SeccompInputs& base) {
    for (const policy::PathCall& call : policy::path_calls()) {
        const int nr = policy::resolve_syscall(call.syscall);
        if (nr >= 0) path_calls_[nr] = &call;
    }
    const policy::DenialRules rules = policy::denial_rules(base);
    if (base.allowed_syscalls) {
        const std::set<int> allowed = policy::expand_syscalls(*base.allowed_syscalls);
        for (const std::string& name : policy::native_syscall_names()) {
            const int nr = policy::resolve_syscall(name);
            if (nr >= 0 && !allowed.contains(nr)) refused_.insert(nr);
        }
    } else {
        for (const auto& [nr, rule] : rules.by_nr) refused_.insert(nr);
    }
}

void LearnSupervisor::adopt(sys::UniqueFd listener) {
    if (listener_ || !listener) return;
    listener_.adopt(std::move(listener));
}

void LearnSupervisor::on_ready(short revents) {
    if (revents & POLLIN)
        while (const seccomp_notif* n = listener_.next()) {
            const seccomp_notif copy = *n;
            observe(copy);
            // Learning lets every delivered call through: see the header.
            listener_.answer_continue(copy.id);
        }
    if (revents & (POLLHUP | POLLERR | POLLNVAL)) listener_.close();
}

void LearnSupervisor::observe(const seccomp_notif& n) {
    const auto pid = static_cast<pid_t>(n.pid);
    if (n.data.arch != AUDIT_ARCH_X86_64) return;  // foreign ABIs are never delivered here
    if (seen_.insert(pid).second) {
        const std::string exe = read_link("/proc/" + std::to_string(pid) + "/exe");
        if (!exe.empty() && exe.front() == '/' && listener_.still_waiting(n.id))
            learned_.paths[lexically_normal(exe)].executed = true;
    }
    if (refused_.contains(n.data.nr))
        ++learned_.refused_calls[policy::describe_call(n.data.arch, n.data.nr).name];
    auto it = path_calls_.find(n.data.nr);
    if (it == path_calls_.end()) return;
    const policy::PathCall& call = *it->second;
    PathUse use;
    switch (call.use) {
        case policy::PathCall::Use::Read: use.read = true; break;
        case policy::PathCall::Use::Write: use.written = true; break;
        case policy::PathCall::Use::Entries: use.entries = true; break;
        case policy::PathCall::Use::Open: {
            const auto flags = static_cast<int>(n.data.args[call.flags]);
            if (flags & (O_CREAT | O_TMPFILE)) use.entries = true;
            if ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC)) use.written = true;
            if (!use.entries && !use.written) use.read = true;
            break;
        }
    }
    std::vector<std::string> named;
    for (const policy::PathArgument& arg : {call.first, call.second})
        if (arg.path >= 0)
            if (std::string path = path_of(pid, n.data, arg); !path.empty()) named.push_back(std::move(path));
    // What was read from the caller counts only if it is still the caller: the
    // notification is still pending.
    if (!listener_.still_waiting(n.id)) return;
    for (const std::string& path : named) {
        PathUse& known = learned_.paths[path];
        known.read |= use.read;
        known.written |= use.written;
        known.entries |= use.entries;
    }
}

std::string LearnSupervisor::path_of(pid_t pid, const seccomp_data& data, const policy::PathArgument& arg) {
    std::string path = read_string(pid, data.args[arg.path]);
    if (path.empty()) return {};  // AT_EMPTY_PATH (the fd itself) or unreadable
    if (path.front() != '/') {
        const std::string proc = "/proc/" + std::to_string(pid);
        const int dirfd = arg.dirfd >= 0 ? static_cast<int>(data.args[arg.dirfd]) : AT_FDCWD;
        const std::string base = read_link(dirfd == AT_FDCWD ? proc + "/cwd" : proc + "/fd/" + std::to_string(dirfd));
        if (base.empty() || base.front() != '/') return {};
        path = base + "/" + path;
    }
    return lexically_normal(path);
}

}  // namespace aj::helper
