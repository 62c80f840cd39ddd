#include "runner/learned_policy.hpp"

#include <limits.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>

#include "helper/system_view.hpp"
#include "policy/default_deny.hpp"
#include "policy/syscall_groups.hpp"
#include "policy/syscall_names.hpp"

namespace aj::runner {

namespace {

bool at_or_under(const std::string& path, const std::string& dir) {
    return path == dir || dir == "/" ||
           (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/');
}

std::string parent_of(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

// The sandbox has these of its own: granting the host's would undo that.
bool sandbox_own(const std::string& path) {
    for (const char* own : {"/proc", "/sys", "/dev"})
        if (at_or_under(path, own)) return true;
    return path == "/" || path == "/tmp" || path == "/run";
}

bool exists_on_host(const std::string& path, struct stat* st = nullptr) {
    struct stat tmp {};
    return ::lstat(path.c_str(), st ? st : &tmp) == 0;
}

// Whether `rules` already give `path` with at least `mode`.
bool covered(const std::vector<policy::PathRule>& rules, const std::string& path, policy::PathMode mode) {
    return std::any_of(rules.begin(), rules.end(), [&](const policy::PathRule& r) {
        return at_or_under(path, r.path) && (mode == policy::PathMode::ReadOnly || r.mode == policy::PathMode::ReadWrite);
    });
}

bool writable_by(const struct stat& st, const helper::HostIds& ids) {
    if (st.st_uid == ids.uid) return st.st_mode & S_IWUSR;
    if (st.st_gid == ids.gid) return st.st_mode & S_IWGRP;
    return st.st_mode & S_IWOTH;
}

// Path -> mode wanted, before collapsing.
std::map<std::string, policy::PathMode> wanted_paths(const helper::Learned& learned, const helper::HostIds& sandbox) {
    using policy::PathMode;
    std::map<std::string, PathMode> want;
    auto add = [&](const std::string& path, PathMode mode) {
        struct stat st {};
        if (sandbox_own(path) || !exists_on_host(path, &st)) return;
        if (mode == PathMode::ReadWrite && !writable_by(st, sandbox)) return;
        auto [it, fresh] = want.try_emplace(path, mode);
        if (!fresh && mode == PathMode::ReadWrite) it->second = mode;
    };
    for (const auto& [path, use] : learned.paths) {
        if (use.entries) add(parent_of(path), PathMode::ReadWrite);
        if (use.written) add(path, PathMode::ReadWrite);
        if (use.read || use.executed) add(path, PathMode::ReadOnly);
        // A link is recreated inside, not followed: what it points to must be there too.
        struct stat st {};
        if ((use.read || use.executed) && exists_on_host(path, &st) && S_ISLNK(st.st_mode)) {
            char resolved[PATH_MAX];
            if (::realpath(path.c_str(), resolved)) add(resolved, PathMode::ReadOnly);
        }
    }
    return want;
}

// What the base's system view gives already: its host entries, and the files it writes
// for the sandbox (/etc/passwd...), which a grant of the host's own would replace (the
// policy's grants win over the view), so `whoami` would name the host's account.
void drop_system_view(std::map<std::string, policy::PathMode>& want, const policy::Policy& base) {
    if (!base.system_view) return;
    std::vector<std::string> given = helper::system_view_host_paths(base.network);
    for (const helper::SynthesizedFile& f : helper::system_view_files(base, "/")) given.push_back(f.path);
    std::erase_if(want, [&](const auto& entry) {
        return entry.second == policy::PathMode::ReadOnly &&
               std::any_of(given.begin(), given.end(), [&](const std::string& g) { return at_or_under(entry.first, g); });
    });
}

// Four or more read-only files directly in one directory: the directory instead; never
// a directory the system view writes into (/etc), whose whole host copy would replace
// what the view wrote.
void collapse_directories(std::map<std::string, policy::PathMode>& want, const policy::Policy& base) {
    constexpr int kFilesForDirectory = 4;
    std::map<std::string, int> files_in;
    for (const auto& [path, mode] : want)
        if (mode == policy::PathMode::ReadOnly) ++files_in[parent_of(path)];
    for (const auto& [dir, count] : files_in)
        if (count >= kFilesForDirectory && !sandbox_own(dir) && !(base.system_view && dir == "/etc"))
            want.try_emplace(dir, policy::PathMode::ReadOnly);
}

// Names for `entry` minus the call `nr`: the entry itself if it does not stand for nr, a
// group's other members if it does, nothing if it is the call.
std::vector<std::string> without_call(const std::string& entry, int nr) {
    if (!policy::expand_syscalls({entry}).contains(nr)) return {entry};
    const policy::SyscallGroup* group = entry.front() == '@' ? policy::find_syscall_group(entry) : nullptr;
    if (!group) return {};
    std::vector<std::string> out;
    for (std::string_view member : group->members) {
        // Group members absent on this ABI (chown32) are no valid entry on their own.
        if (member.front() != '@' && policy::resolve_syscall(member) < 0) continue;
        for (const std::string& kept : without_call(std::string(member), nr))
            if (std::find(out.begin(), out.end(), kept) == out.end()) out.push_back(kept);
    }
    return out;
}

}  // namespace

LearnedPolicy learned_policy(const policy::Policy& base, const helper::Learned& learned, const helper::HostIds& sandbox) {
    using policy::PathMode;
    LearnedPolicy out{base, {}, {}, {}};
    policy::Policy& p = out.policy;

    std::map<std::string, PathMode> want = wanted_paths(learned, sandbox);
    drop_system_view(want, base);
    collapse_directories(want, base);
    // Shallowest first, so that a directory granted makes what lies under it redundant.
    std::vector<std::pair<std::string, PathMode>> ordered(want.begin(), want.end());
    std::stable_sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) {
        return std::count(a.first.begin(), a.first.end(), '/') < std::count(b.first.begin(), b.first.end(), '/');
    });
    for (const auto& [path, mode] : ordered) {
        if (covered(p.allowed_paths, path, mode)) continue;
        p.allowed_paths.push_back({path, mode});
        out.added_paths.push_back(path + (mode == PathMode::ReadWrite ? " rw" : " ro"));
    }

    std::vector<std::string> defaults;
    if (p.default_deny)
        for (std::string_view e : policy::default_deny_entries()) defaults.emplace_back(e);
    const std::set<int> default_denied = policy::expand_syscalls(defaults);
    for (const auto& [name, count] : learned.refused_calls) {
        const int nr = policy::resolve_syscall(name);
        if (nr < 0) continue;
        if (default_denied.contains(nr)) {
            out.still_refused.push_back(name + " (made " + std::to_string(count) +
                                        " times): in the default deny set; only a deliberate edit lifts it "
                                        "(docs/policy.md, default_deny)");
            continue;
        }
        if (p.allowed_syscalls) {
            p.allowed_syscalls->push_back(name);
            out.allowed_calls.push_back(name);
            continue;
        }
        std::vector<std::string> blocked;
        for (const std::string& entry : p.blocked_syscalls)
            for (std::string& kept : without_call(entry, nr)) blocked.push_back(std::move(kept));
        if (blocked != p.blocked_syscalls) out.allowed_calls.push_back(name);
        p.blocked_syscalls = std::move(blocked);
    }
    return out;
}

}  // namespace aj::runner
