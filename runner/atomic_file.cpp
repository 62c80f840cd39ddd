#include "runner/atomic_file.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "helper/sys.hpp"
#include "policy/error.hpp"

namespace aj::runner {

namespace {

std::string random_suffix() {
    unsigned char bytes[6];
    if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes))
        throw_errno("getrandom");
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned char b : bytes) {
        out += hex[b >> 4];
        out += hex[b & 15];
    }
    return out;
}

}  // namespace

void write_file_atomic(int dir_fd, const std::string& name, std::string_view data, unsigned mode) {
    std::string tmp;
    sys::UniqueFd fd;
    for (int attempt = 0; attempt < 8 && !fd; ++attempt) {
        tmp = "." + name.substr(0, 200) + ".tmp-" + random_suffix();
        fd.reset(sys::retry_eintr([&] {
            return ::openat(dir_fd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        }));
        if (!fd && errno != EEXIST) throw_errno("creating temp file for " + name);
    }
    if (!fd) throw Error("creating temp file for " + name + ": no free name");
    try {
        sys::write_all(fd.get(), data, "writing " + name);
        sys::check(::fchmod(fd.get(), mode), "chmod " + name);
        sys::check(sys::retry_eintr([&] { return ::fsync(fd.get()); }), "fsync " + name);
        fd.reset();
        sys::check(::renameat(dir_fd, tmp.c_str(), dir_fd, name.c_str()), "renaming into place " + name);
    } catch (...) {
        ::unlinkat(dir_fd, tmp.c_str(), 0);
        throw;
    }
    sys::check(sys::retry_eintr([&] { return ::fsync(dir_fd); }), "fsync directory of " + name);
}

void write_file_atomic(const std::string& path, std::string_view data, unsigned mode) {
    std::size_t slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    sys::UniqueFd dir_fd = sys::open_fd(dir, O_RDONLY | O_DIRECTORY, "opening directory");
    write_file_atomic(dir_fd.get(), name, data, mode);
}

}  // namespace aj::runner
