#include "runner/workdir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "policy/error.hpp"

namespace aj::runner {
namespace {

bool mode_grants_write(const struct stat& st, uid_t uid, gid_t gid) {
    if (st.st_uid == uid) return (st.st_mode & (S_IWUSR | S_IXUSR)) == (S_IWUSR | S_IXUSR);
    if (st.st_gid == gid) return (st.st_mode & (S_IWGRP | S_IXGRP)) == (S_IWGRP | S_IXGRP);
    return (st.st_mode & (S_IWOTH | S_IXOTH)) == (S_IWOTH | S_IXOTH);
}

}  // namespace

std::string normalize_workdir(const std::string& dir) {
    std::error_code ec;
    const std::filesystem::path abs = std::filesystem::absolute(dir, ec);
    if (ec) throw Error("--workdir " + dir + ": " + ec.message());
    std::string out = abs.lexically_normal().string();
    while (out.size() > 1 && out.back() == '/') out.pop_back();
    return out;
}

void require_writable_workdir(const std::string& dir, uid_t uid, gid_t gid) {
    struct stat st{};
    if (::stat(dir.c_str(), &st) != 0) {
        const int err = errno;
        throw_errno("--workdir " + dir, err);
    }
    if (!S_ISDIR(st.st_mode)) throw Error("--workdir " + dir + ": not a directory");
    const bool writable = uid == ::geteuid() && gid == ::getegid()
                              ? ::faccessat(AT_FDCWD, dir.c_str(), W_OK | X_OK, AT_EACCESS) == 0
                              : mode_grants_write(st, uid, gid);
    if (writable) return;
    throw Error("--workdir " + dir + ": not writable by host uid " + std::to_string(uid) +
                ", which the sandbox runs as (the directory is owned by uid " + std::to_string(st.st_uid) +
                "); give that uid write access first, e.g. chown " + std::to_string(uid) + " " + dir);
}

}  // namespace aj::runner
