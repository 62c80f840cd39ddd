#include "helper/sandbox_terminal.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/vfs.h>
#include <termios.h>

#include "policy/error.hpp"

namespace aj::helper {

namespace {

constexpr const char* kSandboxPts = "/dev/pts";

bool at_or_below(const std::string& path, const std::string& dir) {
    return path == dir || path.starts_with(dir + "/");
}

}  // namespace

PtyPair open_devpts_pty(const std::string& pts_dir, unsigned short rows, unsigned short cols) {
    const sys::UniqueFd dir =
        sys::open_fd(pts_dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, "opening " + pts_dir + " for a terminal");
    struct statfs st {};
    sys::check(::fstatfs(dir.get(), &st), "statfs " + pts_dir);
    if (st.f_type != DEVPTS_SUPER_MAGIC) throw Error(pts_dir + " is not a devpts file system: no terminal is made");
    PtyPair pty;
    pty.master = sys::UniqueFd(::openat(dir.get(), "ptmx", O_RDWR | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC));
    if (!pty.master) throw_errno("opening " + pts_dir + "/ptmx (its devpts needs ptmxmode=0666 or similar)");
    int unlock = 0;
    sys::check(::ioctl(pty.master.get(), TIOCSPTLCK, &unlock), "unlocking the terminal (TIOCSPTLCK)");
    if (rows != 0 || cols != 0) {
        winsize size{};
        size.ws_row = rows;
        size.ws_col = cols;
        sys::check(::ioctl(pty.master.get(), TIOCSWINSZ, &size), "setting the terminal's size (TIOCSWINSZ)");
    }
    pty.slave = sys::UniqueFd(
        sys::check(::ioctl(pty.master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC), "opening the terminal's slave (TIOCGPTPEER)"));
    return pty;
}

void check_terminal_plan(const std::vector<FilesystemMount>& filesystems, const std::vector<ExtraBind>& binds,
                         const std::vector<std::string>& devices) {
    bool own_devpts = false;
    for (const FilesystemMount& fs : filesystems)
        if (fs.type == "devpts" && fs.target == kSandboxPts) own_devpts = true;
    if (!own_devpts)
        throw Error("a terminal needs a devpts file system mounted at /dev/pts (the terminal is one of the sandbox's own)");
    for (const ExtraBind& bind : binds)
        if (at_or_below(bind.inside, kSandboxPts))
            throw Error("a terminal needs /dev/pts to be the sandbox's own devpts: " + bind.host + " is bound at " + bind.inside);
    for (const std::string& device : devices)
        if (at_or_below(device, kSandboxPts))
            throw Error("a terminal needs /dev/pts to be the sandbox's own devpts: device " + device + " is listed in it");
}

}  // namespace aj::helper
