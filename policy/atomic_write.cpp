#include "policy/atomic_write.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "policy/random_name.hpp"
#include "policy/sys.hpp"
#include "policy/error.hpp"

namespace aj::sys {

void write_file_atomic(int dir_fd, const std::string& name, std::string_view data, unsigned mode, DirSync dir_sync) {
    std::string tmp;
    UniqueFd fd;
    for (int attempt = 0; attempt < 8 && !fd; ++attempt) {
        tmp = "." + name.substr(0, 200) + ".tmp-" + random_hex(6);
        fd.reset(retry_eintr([&] {
            return ::openat(dir_fd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        }));
        if (!fd && errno != EEXIST) throw_errno("creating temp file for " + name);
    }
    if (!fd) throw Error("creating temp file for " + name + ": no free name");
    try {
        write_all(fd.get(), data, "writing " + name);
        check(::fchmod(fd.get(), mode), "chmod " + name);
        check(retry_eintr([&] { return ::fsync(fd.get()); }), "fsync " + name);
        // close() reports write-back errors (NFS, quota) that a destructor would drop.
        if (::close(fd.release()) != 0 && errno != EINTR) throw_errno("closing " + name);
        check(::renameat(dir_fd, tmp.c_str(), dir_fd, name.c_str()), "renaming into place " + name);
    } catch (...) {
        ::unlinkat(dir_fd, tmp.c_str(), 0);
        throw;
    }
    if (dir_sync == DirSync::Now) check(retry_eintr([&] { return ::fsync(dir_fd); }), "fsync directory of " + name);
}

void write_file_atomic(const std::string& path, std::string_view data, unsigned mode) {
    std::size_t slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    UniqueFd dir_fd = sys::open_fd(dir, O_RDONLY | O_DIRECTORY, "opening directory");
    write_file_atomic(dir_fd.get(), name, data, mode);
}

}  // namespace aj::sys
