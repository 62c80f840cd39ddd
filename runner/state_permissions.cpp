#include "runner/state_permissions.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/sys.hpp"
#include "policy/error.hpp"
#include "policy/atomic_write.hpp"
#include "policy/dir_list.hpp"
#include "runner/run_registry.hpp"
#include "runner/state_dir.hpp"

namespace aj::runner {
namespace {

using sys::UniqueFd;

// Written once the state directory has today's permissions; its content is the layout
// version that did it.
constexpr const char* kMarker = ".permissions";
constexpr const char* kMarkerVersion = "2\n";

// Opens `name` in `dir_fd` without following a symlink and without blocking on a fifo.
UniqueFd open_entry(int dir_fd, const std::string& name, int flags) {
    return UniqueFd(sys::retry_eintr([&] {
        return ::openat(dir_fd, name.c_str(), flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    }));
}

// Every regular file of ours directly in `dir_fd`: no group or world bits.
void tighten_files(int dir_fd, const std::string& dir) {
    for (const std::string& name : sys::list_dir(dir_fd, dir)) {
        UniqueFd fd = open_entry(dir_fd, name, O_RDONLY);
        if (!fd) continue;  // a symlink, or gone
        struct stat st{};
        sys::check(::fstat(fd.get(), &st), "stat " + dir + "/" + name);
        if (!S_ISREG(st.st_mode) || st.st_uid != ::geteuid() || !(st.st_mode & 077)) continue;
        sys::check(::fchmod(fd.get(), st.st_mode & 0700), "chmod " + dir + "/" + name);
    }
}

}  // namespace

void tighten_older_state(const StateDir& state) {
    UniqueFd root = sys::open_fd(state.root(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW, "opening state directory");
    if (UniqueFd marker = open_entry(root.get(), kMarker, O_RDONLY)) {
        if (sys::read_all(marker.get(), 16, "reading " + state.root() + "/" + kMarker) == kMarkerVersion) return;
    }
    tighten_files(root.get(), state.root());
    UniqueFd plugins = sys::open_fd(state.plugins(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW, "opening plugin store");
    tighten_files(plugins.get(), state.plugins());
    UniqueFd runs = sys::open_fd(state.runs(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW, "opening runs directory");
    for (const std::string& id : sys::list_dir(runs.get(), state.runs())) {
        UniqueFd dir = open_entry(runs.get(), id, O_RDONLY | O_DIRECTORY);
        if (!dir) continue;
        struct stat st{};
        sys::check(::fstat(dir.get(), &st), "stat " + state.runs() + "/" + id);
        if (st.st_uid != ::geteuid()) continue;
        restrict_run_dir(dir.get(), id);
        tighten_files(dir.get(), state.runs() + "/" + id);
    }
    sys::write_file_atomic(root.get(), kMarker, kMarkerVersion, 0600);
}

}  // namespace aj::runner
