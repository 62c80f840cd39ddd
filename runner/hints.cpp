#include "runner/hints.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>

#include "helper/mount_plan.hpp"
#include "helper/system_view.hpp"

namespace aj::runner {

namespace {

// At most this many lines: a hint, not a second error report.
constexpr std::size_t kMaxHints = 3;

bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

std::string parent_of(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

std::string joined(const std::string& dir, const std::string& name) {
    return dir == "/" ? "/" + name : dir + "/" + name;
}

bool covered_by_grants(const HintContext& ctx, const std::string& path) {
    for (const auto& rule : ctx.policy.allowed_paths)
        if (helper::at_or_below(path, rule.path)) return true;
    for (const auto& b : ctx.extra_binds)
        if (helper::at_or_below(path, b.host)) return true;
    if (ctx.workdir && helper::at_or_below(path, *ctx.workdir)) return true;
    if (ctx.policy.system_view)
        for (const auto& p : helper::system_view_host_paths(ctx.policy.network))
            if (helper::at_or_below(path, p)) return true;
    return false;
}

// A bare command name found in the caller's PATH on the host, or "".
std::string find_on_host_path(const std::string& name, const std::string& path_list) {
    std::size_t start = 0;
    while (start <= path_list.size()) {
        std::size_t end = path_list.find(':', start);
        if (end == std::string::npos) end = path_list.size();
        const std::string dir = path_list.substr(start, end - start);
        start = end + 1;
        if (dir.empty() || dir[0] != '/') continue;
        std::string candidate = joined(dir, name);
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    return "";
}

std::string not_visible(const std::string& host) {
    return host + " is not visible in the sandbox; grant it with allowed_paths or --ro-bind " + parent_of(host);
}

}  // namespace

bool visible_in_sandbox(const HintContext& ctx, const std::string& path) {
    if (covered_by_grants(ctx, path)) return true;
    char resolved[PATH_MAX];
    return ::realpath(path.c_str(), resolved) != nullptr && covered_by_grants(ctx, resolved);
}

std::vector<std::string> failed_run_hints(const HintContext& ctx, const std::vector<std::string>& argv,
                                          bool not_found) {
    std::vector<std::string> hints;
    if (argv.empty()) return hints;
    const bool cwd_differs = ctx.sandbox_cwd != ctx.caller_cwd;
    auto about_path = [&](const std::string& word) {
        if (word.empty() || word[0] == '-' || word.find('\0') != std::string::npos) return;
        if (word[0] == '/') {
            if (exists(word) && !visible_in_sandbox(ctx, word)) hints.push_back(not_visible(word));
            return;
        }
        // Relative: it names something in the caller's directory, but the command looks
        // for it in the sandbox's.
        if (!cwd_differs) return;
        const std::string host = joined(ctx.caller_cwd, word);
        if (!exists(host)) return;
        // The same name in the sandbox's directory, visible there: not this problem.
        const std::string there = joined(ctx.sandbox_cwd, word);
        if (exists(there) && visible_in_sandbox(ctx, there)) return;
        hints.push_back(word + " is " + host + " on the host, but the sandbox's working directory is " + ctx.sandbox_cwd +
                        "; run with --workdir " + ctx.caller_cwd + " (read-write, the working directory) or --ro-bind " +
                        ctx.caller_cwd + " and the absolute path " + host);
    };

    const std::string& command = argv[0];
    if (not_found) {
        if (command.find('/') != std::string::npos) {
            about_path(command);
        } else if (const std::string host = find_on_host_path(command, ctx.caller_path); !host.empty()) {
            if (!visible_in_sandbox(ctx, host))
                hints.push_back(command + " is " + host + " on the host, not visible in the sandbox; grant it with "
                                "allowed_paths or --ro-bind " + parent_of(host) + " (and run it as " + host + ")");
            else if (ctx.policy.env.set.contains("PATH"))
                hints.push_back(command + " is " + host + " on the host, outside the sandbox's PATH (" +
                                ctx.policy.env.set.at("PATH") + "); run it as " + host);
        }
    }
    for (std::size_t i = 1; i < argv.size() && hints.size() < kMaxHints; ++i) about_path(argv[i]);
    if (hints.size() > kMaxHints) hints.resize(kMaxHints);
    return hints;
}

void print_hints(const std::vector<std::string>& hints) {
    for (const auto& h : hints) std::fprintf(stderr, "aurora-jail: hint: %s\n", h.c_str());
}

}  // namespace aj::runner
