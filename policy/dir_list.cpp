#include "policy/dir_list.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "policy/error.hpp"

namespace aj::sys {

namespace {

struct DirCloser {
    void operator()(DIR* d) const { ::closedir(d); }
};
using UniqueDir = std::unique_ptr<DIR, DirCloser>;

}  // namespace

std::vector<std::string> list_dir(int dir_fd, const std::string& what, std::size_t max_entries) {
    // fdopendir takes ownership of the fd it is given: hand it a duplicate.
    int dup = ::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
    if (dup < 0) {
        int err = errno;
        throw_errno("dup " + what, err);
    }
    UniqueDir d(::fdopendir(dup));
    if (!d) {
        int err = errno;
        ::close(dup);
        throw_errno("opendir " + what, err);
    }
    // The duplicate shares its offset with dir_fd, which an earlier listing may have moved.
    ::rewinddir(d.get());
    std::vector<std::string> names;
    errno = 0;
    while (names.size() < max_entries) {
        const dirent* e = ::readdir(d.get());
        if (!e) break;
        std::string n = e->d_name;
        if (n != "." && n != "..") names.push_back(std::move(n));
        errno = 0;
    }
    if (int err = errno; err != 0) throw_errno("readdir " + what, err);
    return names;
}

}  // namespace aj::sys
