#include "runner/state_dir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <vector>
#include <filesystem>

#include <CLI/CLI.hpp>

#include "policy/sys.hpp"
#include "policy/error.hpp"
#include "runner/global_options.hpp"
#include "runner/state_permissions.hpp"

namespace aj::runner {

namespace {

// Creates every missing parent of `path` with mode 0700 (an ordinary user's
// ~/.local/state may not exist yet).
void ensure_parents(const std::filesystem::path& path) {
    std::filesystem::path parent = path.parent_path();
    if (parent.empty() || parent == path) return;
    struct stat st{};
    if (::lstat(parent.c_str(), &st) == 0) return;
    ensure_parents(parent);
    if (::mkdir(parent.c_str(), 0700) < 0 && errno != EEXIST)
        throw_errno("creating state directory parent " + parent.string());
}

}  // namespace

// The same rule as OpenSSH's StrictModes.
void check_ancestors_trusted(const std::string& root) {
    std::filesystem::path parent = std::filesystem::path(root).parent_path();
    char* real = ::realpath(parent.c_str(), nullptr);
    if (!real) throw_errno("resolving " + parent.string());
    std::string canonical(real);
    std::free(real);
    std::filesystem::path walk = "/";
    std::vector<std::filesystem::path> chain{walk};
    for (const auto& part : std::filesystem::path(canonical).relative_path()) chain.push_back(walk /= part);
    for (const auto& dir : chain) {
        struct stat st{};
        sys::check(::lstat(dir.c_str(), &st), "stat " + dir.string());
        bool owner_ok = st.st_uid == 0 || st.st_uid == ::geteuid();
        bool writable_by_others = (st.st_mode & 022) && !(st.st_mode & S_ISVTX);
        if (!owner_ok || writable_by_others)
            throw Error("state directory " + root + ": ancestor " + dir.string() +
                        " is writable by other users (uid " + std::to_string(st.st_uid) + ", mode " +
                        [&] {
                            char m[8];
                            std::snprintf(m, sizeof m, "%04o", static_cast<unsigned>(st.st_mode & 07777));
                            return std::string(m);
                        }() + "): refusing to use it");
    }
}

void ensure_dir(const std::string& path, unsigned mode) {
    if (::mkdir(path.c_str(), mode) < 0 && errno != EEXIST)
        throw_errno("creating directory " + path);
    // O_NOFOLLOW|O_DIRECTORY: a symlink planted at a state path is refused, never followed.
    sys::UniqueFd fd(sys::retry_eintr(
        [&] { return ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC); }));
    if (!fd) throw_errno("opening directory " + path + " (must be a real directory)");
    struct stat st{};
    sys::check(::fstat(fd.get(), &st), "stat " + path);
    if (st.st_uid != ::geteuid())
        throw Error("state directory " + path + " belongs to uid " + std::to_string(st.st_uid) +
                    ", not to us (uid " + std::to_string(::geteuid()) + "): refusing to use it");
    // mkdir applies the umask; set the exact mode so the sandbox uid can traverse
    // where it must and nobody else can write.
    if ((st.st_mode & 07777) != mode) sys::check(::fchmod(fd.get(), mode), "chmod " + path);
}

StateDir::StateDir(std::string root) : root_(std::move(root)) {
    ensure_parents(root_);
    check_ancestors_trusted(root_);
    // 0711 where a root caller's sandbox (host uid 65534) must reach a bind source: the
    // root and plugins/ (staged packages keep their source's read bits), runs/ (each run
    // directory admits only the sandbox's group, restrict_run_dir). Everything else is
    // ours alone: directories 0700, files 0600.
    ensure_dir(root_, 0711);
    ensure_dir(plugins(), 0711);
    ensure_dir(runs(), 0711);
    ensure_dir(policies(), 0700);
    ensure_dir(logs(), 0700);
    ensure_dir(queue(), 0700);
    ensure_dir(queue() + "/requests", 0700);
    ensure_dir(queue() + "/claimed", 0700);
    ensure_dir(queue() + "/responses", 0700);
    ensure_dir(queue() + "/tmp", 0700);
    tighten_older_state(*this);
}

std::string default_state_dir() {
    if (::geteuid() == 0) return "/var/lib/aurora-jail";
    const char* xdg = std::getenv("XDG_STATE_HOME");
    // The XDG spec says a relative value is invalid and must be ignored.
    if (xdg && xdg[0] == '/') return std::string(xdg) + "/aurora-jail";
    const char* home = std::getenv("HOME");
    if (!home || home[0] != '/')
        throw Error("cannot find a state directory: HOME is not set; pass --state-dir DIR");
    return std::string(home) + "/.local/state/aurora-jail";
}

std::string absolute_path(const std::string& path, const std::string& what) {
    std::error_code ec;
    auto abs = std::filesystem::absolute(path, ec);
    if (ec) throw Error(what + " " + path + ": " + ec.message());
    std::string out = abs.lexically_normal().string();
    while (out.size() > 1 && out.back() == '/') out.pop_back();
    return out;
}

std::string resolve_state_dir(const std::string& override_dir) {
    if (!override_dir.empty()) return absolute_path(override_dir, "--state-dir");
    const char* env = std::getenv(kStateDirEnv);
    if (env == nullptr || env[0] == '\0') return default_state_dir();
    return absolute_path(env, std::string("$") + kStateDirEnv);
}

void add_state_dir_option(CLI::App& sub, std::string& dir) {
    sub.add_option("--state-dir", dir,
                   "state directory (default: $AURORA_JAIL_STATE_DIR, else /var/lib/aurora-jail for root, "
                   "else $XDG_STATE_HOME/aurora-jail or ~/.local/state/aurora-jail)");
}

}  // namespace aj::runner
