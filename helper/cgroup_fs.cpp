#include "helper/cgroup_fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <thread>

namespace aj::helper::cgroupfs {
namespace {


// Subdirectories of an open cgroup directory (nested cgroups).
std::vector<std::string> child_cgroups(const std::string& dir) {
    std::vector<std::string> out;
    DIR* d = ::opendir(dir.c_str());
    if (!d) {
        if (errno == ENOENT) return out;
        throw_errno("listing cgroup " + dir);
    }
    while (dirent* e = ::readdir(d)) {
        std::string_view name = e->d_name;
        if (e->d_type == DT_DIR && name != "." && name != "..") out.emplace_back(name);
    }
    ::closedir(d);
    return out;
}

// Signals everything in DIR and below; returns how many processes were signalled.
std::size_t kill_tree(const std::string& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return 0;
        throw_errno("opening cgroup " + dir);
    }
    sys::UniqueFd dfd(fd);
    std::size_t n = 0;
    // cgroup.kill (v2, Linux 5.14+) kills the whole subtree atomically, including
    // processes forked while we would otherwise be iterating.
    if (try_write_control(dfd.get(), "cgroup.kill", "1") != 0) n += kill_members(dfd.get(), dir);
    for (const auto& child : child_cgroups(dir)) n += kill_tree(dir + "/" + child);
    return n;
}

// rmdir deepest first; returns 0 when DIR is gone, else the errno of the failing rmdir.
int remove_tree(const std::string& dir) {
    for (const auto& child : child_cgroups(dir))
        if (int err = remove_tree(dir + "/" + child)) return err;
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return 0;
    return errno;
}

}  // namespace

sys::UniqueFd open_dir(const std::string& path, std::string_view what) {
    return sys::open_fd(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, what);
}

std::optional<std::string> read_control(int dirfd, const std::string& dir, const char* name) {
    int fd = sys::retry_eintr([&] { return ::openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW); });
    if (fd < 0) {
        if (errno == ENOENT) return std::nullopt;
        throw_errno("opening " + dir + "/" + name);
    }
    sys::UniqueFd owned(fd);
    return sys::read_all(fd, 1 << 20, "reading " + dir + "/" + name);
}

int try_write_control(int dirfd, const char* name, std::string_view value) {
    int fd = sys::retry_eintr([&] { return ::openat(dirfd, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW); });
    if (fd < 0) return errno;
    sys::UniqueFd owned(fd);
    ssize_t n = sys::retry_eintr([&] { return ::write(fd, value.data(), value.size()); });
    if (n < 0) return errno;
    return static_cast<std::size_t>(n) == value.size() ? 0 : EIO;
}

void write_control(int dirfd, const std::string& dir, const char* name, std::string_view value) {
    if (int err = try_write_control(dirfd, name, value))
        throw_errno("writing " + dir + "/" + name + " = " + std::string(value), err);
}

std::optional<std::uint64_t> keyed_value(std::string_view text, std::string_view key) {
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(pos, end - pos);
        pos = end + 1;
        if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ' ') {
            std::string_view num = line.substr(key.size() + 1);
            std::uint64_t v = 0;
            auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
            if (ec == std::errc()) return v;
        }
    }
    return std::nullopt;
}

std::vector<pid_t> read_procs(int dirfd, const std::string& dir) {
    std::vector<pid_t> pids;
    auto text = read_control(dirfd, dir, "cgroup.procs");
    if (!text) return pids;
    std::size_t pos = 0;
    while (pos < text->size()) {
        std::size_t end = text->find('\n', pos);
        if (end == std::string::npos) end = text->size();
        pid_t pid = 0;
        auto [p, ec] = std::from_chars(text->data() + pos, text->data() + end, pid);
        if (ec == std::errc() && pid > 0) pids.push_back(pid);
        pos = end + 1;
    }
    return pids;
}

std::size_t kill_members(int dirfd, const std::string& dir, pid_t spare) {
    std::size_t signalled = 0;
    std::vector<sys::UniqueFd> pinned;
    std::vector<pid_t> pids = read_procs(dirfd, dir);
    std::vector<pid_t> pinned_pids;
    for (pid_t pid : pids) {
        if (pid == spare) continue;
        int fd = sys::pidfd_open(pid);
        if (fd < 0) continue;  // already gone
        pinned.emplace_back(fd);
        pinned_pids.push_back(pid);
    }
    // Listed again after pinning: the pidfd then names either this member or a process
    // that has exited (signalling it is a harmless ESRCH), never a stranger.
    std::vector<pid_t> still = read_procs(dirfd, dir);
    for (std::size_t i = 0; i < pinned.size(); ++i) {
        if (std::find(still.begin(), still.end(), pinned_pids[i]) == still.end()) continue;
        if (sys::pidfd_send_signal(pinned[i].get(), SIGKILL) == 0) ++signalled;
    }
    return signalled;
}

void destroy_tree(const std::string& dir, std::chrono::milliseconds budget) {
    // The usual case, a cgroup already empty and without children, takes one rmdir: the
    // kernel refuses it (EBUSY) while anything, process or nested cgroup, is left inside,
    // and only then is there something to kill and list (~20 calls a directory).
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return;
    auto deadline = std::chrono::steady_clock::now() + budget;
    int err = 0;
    while (true) {
        kill_tree(dir);
        err = remove_tree(dir);
        if (err == 0) return;
        if (err != EBUSY && err != EAGAIN) break;
        if (std::chrono::steady_clock::now() >= deadline) break;
        // Members die asynchronously (and zombies keep a cgroup busy until reaped).
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    throw_errno("removing cgroup " + dir, err);
}

}  // namespace aj::helper::cgroupfs
