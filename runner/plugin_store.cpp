#include "runner/plugin_store.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "policy/sys.hpp"
#include "policy/dir_list.hpp"
#include "policy/error.hpp"

namespace aj::runner {

namespace {

using sys::UniqueFd;

constexpr const char* kStagePrefix = ".stage-";
constexpr const char* kLockName = ".lock";
constexpr const char* kInUsePrefix = ".in-use-";

UniqueFd open_dir_at(int dir_fd, const std::string& name, const std::string& what) {
    UniqueFd fd(sys::retry_eintr([&] {
        return ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }));
    if (!fd) throw_errno(what);
    return fd;
}

// Serialises stage/unstage on one store: leftovers can then be removed safely, since
// no other stager can be mid-copy.
UniqueFd lock_store(int plugins_fd, const std::string& dir) {
    UniqueFd fd(sys::retry_eintr([&] {
        return ::openat(plugins_fd, kLockName, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    }));
    if (!fd) throw_errno("opening lock " + dir + "/" + kLockName);
    sys::check(sys::retry_eintr([&] { return ::flock(fd.get(), LOCK_EX); }),
               "locking plugin store " + dir);
    return fd;
}

// plugins/.in-use-ID: every run of ID holds a shared lock on it for its whole life, and
// replacing or removing ID needs it exclusively, so a running sandbox never sees its
// /plugin change or empty under it. The file outlives an unstage on purpose: a run that
// opened it just before still locks the very file a later stage of ID checks.
// 0600: a lock anyone could open, anyone could hold shared forever, blocking every
// stage and unstage of ID.
UniqueFd open_in_use(int plugins_fd, const std::string& dir, const std::string& id) {
    const std::string name = kInUsePrefix + id;
    UniqueFd fd(sys::retry_eintr([&] {
        return ::openat(plugins_fd, name.c_str(), O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    }));
    if (!fd) throw_errno("opening " + dir + "/" + name);
    return fd;
}

// The exclusive side: throws, without waiting, while any run holds `id`.
UniqueFd claim_unused(int plugins_fd, const std::string& dir, const std::string& id, const std::string& doing) {
    UniqueFd fd = open_in_use(plugins_fd, dir, id);
    if (sys::retry_eintr([&] { return ::flock(fd.get(), LOCK_EX | LOCK_NB); }) != 0) {
        if (errno == EWOULDBLOCK)
            throw Error(doing + " " + id + ": a run of it is in progress (see `aurora-jail status`); try again once it has ended");
        throw_errno("locking " + dir + "/" + kInUsePrefix + id);
    }
    return fd;
}

// A temp directory inside plugins/ removed unless committed.
class TempEntry {
public:
    TempEntry(int dir_fd, std::string name) : dir_fd_(dir_fd), name_(std::move(name)) {}
    TempEntry(const TempEntry&) = delete;
    TempEntry& operator=(const TempEntry&) = delete;
    ~TempEntry() {
        if (armed_) {
            try {
                remove_tree(dir_fd_, name_);
            } catch (const Error&) {
                // Left for the next stage's cleanup, which runs under the store lock.
            }
        }
    }
    const std::string& name() const { return name_; }
    void disarm() { armed_ = false; }

private:
    int dir_fd_;
    std::string name_;
    bool armed_ = true;
};

void check_entrypoint(int root_fd, const Manifest& m) {
    if (!m.entry_path) return;
    open_how how{};
    how.flags = O_PATH | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    long fd = ::syscall(SYS_openat2, root_fd, m.entry_path->c_str(), &how, sizeof how);
    if (fd < 0 && errno == ENOSYS)
        fd = ::openat(root_fd, m.entry_path->c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) throw_errno("manifest entrypoint " + *m.entry_path);
    UniqueFd entry(static_cast<int>(fd));
    struct stat st{};
    sys::check(::fstat(entry.get(), &st), "stat entrypoint " + *m.entry_path);
    if (!S_ISREG(st.st_mode))
        throw Error("manifest entrypoint " + *m.entry_path + " is not a regular file");
    // Not executable is fine: a run given a command (the prototype's `sh run.sh`) never
    // executes it; a run without one is refused then (PluginRunScope::argv).
}

// Puts `tmp` in place as `id`: atomically exchanged with an older version when there is
// one, so a crash at any point leaves either the old or the new tree under `id`.
void commit_staged(int plugins_fd, const std::string& tmp, const std::string& id) {
    if (::renameat2(plugins_fd, tmp.c_str(), plugins_fd, id.c_str(), RENAME_EXCHANGE) == 0) {
        remove_tree(plugins_fd, tmp);  // now holds the old version
        return;
    }
    if (errno == ENOENT) {
        if (::renameat2(plugins_fd, tmp.c_str(), plugins_fd, id.c_str(), RENAME_NOREPLACE) < 0)
            throw_errno("renaming staged plugin into place as " + id);
        return;
    }
    if (errno != EINVAL) throw_errno("exchanging staged plugin " + id + " with the old version");
    // A filesystem without RENAME_EXCHANGE: old aside, new in. A crash between the two
    // leaves no `id` (the old copy waits under a .stage- name and is cleaned next time);
    // never a mix of both.
    std::string aside = tmp + "-old";
    if (::renameat(plugins_fd, id.c_str(), plugins_fd, aside.c_str()) < 0)
        throw_errno("moving old version of " + id + " aside");
    if (::renameat(plugins_fd, tmp.c_str(), plugins_fd, id.c_str()) < 0)
        throw_errno("renaming staged plugin into place as " + id);
    remove_tree(plugins_fd, aside);
}

}  // namespace

Manifest read_staged_manifest(int package_dir_fd, const std::string& source) {
    UniqueFd fd(sys::retry_eintr([&] {
        return ::openat(package_dir_fd, "manifest.json", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    }));
    if (!fd) throw_errno(source + ": opening manifest.json (must be a regular file, not a symlink)");
    struct stat st{};
    sys::check(::fstat(fd.get(), &st), source + ": stat manifest.json");
    if (!S_ISREG(st.st_mode)) throw Error(source + ": manifest.json is not a regular file");
    std::string text = sys::read_all(fd.get(), kMaxManifestBytes + 1, source + ": reading manifest.json");
    return parse_manifest(text, source);
}

StagedPlugin PluginStore::stage(const std::string& package_dir, const CopyLimits& limits) const {
    UniqueFd src = sys::open_fd(package_dir, O_RDONLY | O_DIRECTORY, "opening package directory");
    // Fail fast on a bad manifest before copying anything; the copy's manifest is the one
    // that counts (the package may change while we copy).
    (void)read_staged_manifest(src.get(), package_dir + "/manifest.json");

    UniqueFd plugins = sys::open_fd(dir_, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, "opening plugin store");
    UniqueFd lock = lock_store(plugins.get(), dir_);
    for (const std::string& name : sys::list_dir(plugins.get(), dir_))
        if (name.rfind(kStagePrefix, 0) == 0) remove_tree(plugins.get(), name);

    std::string tmpl = dir_ + "/" + kStagePrefix + "XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw_errno("creating staging directory in " + dir_);
    TempEntry tmp(plugins.get(), tmpl.substr(dir_.size() + 1));
    UniqueFd dst = open_dir_at(plugins.get(), tmp.name(), "opening staging directory " + tmpl);

    copy_tree(src.get(), dst.get(), limits);
    verify_symlinks_beneath(dst.get());
    Manifest manifest = read_staged_manifest(dst.get(), package_dir + "/manifest.json (as copied)");
    check_entrypoint(dst.get(), manifest);

    // A version in use stays: refuse before touching it.
    UniqueFd unused = claim_unused(plugins.get(), dir_, manifest.id, "staging a new version of");
    sys::check(::fchmod(dst.get(), 0755), "chmod staging directory");
    // Contents durable before the rename makes them visible under the id.
    sys::check(::syncfs(dst.get()), "syncing staged plugin");
    commit_staged(plugins.get(), tmp.name(), manifest.id);
    tmp.disarm();
    sys::check(::fsync(plugins.get()), "syncing plugin store directory");
    return StagedPlugin{manifest, dir_ + "/" + manifest.id};
}

StagedPlugin PluginStore::find(const std::string& id) const {
    check_safe_name(id, "plugin id");
    UniqueFd fd(sys::retry_eintr([&] {
        return ::open((dir_ + "/" + id).c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }));
    if (!fd) {
        if (errno == ENOENT) throw Error("unknown plugin " + id + " (not staged; see `aurora-jail plugins`)");
        throw_errno("opening staged plugin " + id);
    }
    Manifest m = read_staged_manifest(fd.get(), dir_ + "/" + id + "/manifest.json");
    if (m.id != id) throw Error("staged plugin " + id + " has manifest id " + m.id + ": store corrupted");
    return StagedPlugin{m, dir_ + "/" + id};
}

std::vector<StagedPlugin> PluginStore::list() const {
    UniqueFd plugins = sys::open_fd(dir_, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, "opening plugin store");
    std::vector<StagedPlugin> out;
    for (const std::string& name : sys::list_dir(plugins.get(), dir_)) {
        if (!is_safe_name(name)) continue;  // .lock, .stage-*
        try {
            out.push_back(find(name));
        } catch (const Error&) {
            // A damaged entry is not listed; `find`/`run` report its error by name.
        }
    }
    std::sort(out.begin(), out.end(),
              [](const StagedPlugin& a, const StagedPlugin& b) { return a.manifest.id < b.manifest.id; });
    return out;
}

void PluginStore::unstage(const std::string& id) const {
    check_safe_name(id, "plugin id");
    UniqueFd plugins = sys::open_fd(dir_, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, "opening plugin store");
    UniqueFd lock = lock_store(plugins.get(), dir_);
    UniqueFd unused = claim_unused(plugins.get(), dir_, id, "unstaging");
    // Rename aside first so the id disappears atomically, then remove at leisure (a crash
    // leaves a .stage- leftover, cleaned by the next stage).
    std::string aside = std::string(kStagePrefix) + "unstage-" + id;
    remove_tree(plugins.get(), aside);  // a leftover of an interrupted unstage
    if (::renameat2(plugins.get(), id.c_str(), plugins.get(), aside.c_str(), RENAME_NOREPLACE) < 0) {
        if (errno == ENOENT) throw Error("unknown plugin " + id + " (not staged)");
        throw_errno("unstaging " + id);
    }
    sys::check(::fsync(plugins.get()), "syncing plugin store directory");
    remove_tree(plugins.get(), aside);
}

sys::UniqueFd PluginStore::hold(const std::string& id) const {
    check_safe_name(id, "plugin id");
    UniqueFd plugins = sys::open_fd(dir_, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, "opening plugin store");
    UniqueFd fd = open_in_use(plugins.get(), dir_, id);
    // Waits only while a stage or unstage of `id` is under way (they never wait).
    sys::check(sys::retry_eintr([&] { return ::flock(fd.get(), LOCK_SH); }), "locking plugin " + id + " for a run");
    return fd;
}

}  // namespace aj::runner
