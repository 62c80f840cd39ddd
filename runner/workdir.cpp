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

std::string absolute_normal(const std::string& path, const std::string& what) {
    std::error_code ec;
    const std::filesystem::path abs = std::filesystem::absolute(path, ec);
    if (ec) throw Error(what + " " + path + ": " + ec.message());
    std::string out = abs.lexically_normal().string();
    while (out.size() > 1 && out.back() == '/') out.pop_back();
    return out;
}

std::string normalize_workdir(const std::string& dir) { return absolute_normal(dir, "--workdir"); }

void require_writable_workdir(const std::string& dir, uid_t uid, gid_t gid) {
    struct stat st{};
    if (::stat(dir.c_str(), &st) != 0) {
        const int err = errno;
        throw_errno("--workdir " + dir, err);
    }
    if (!S_ISDIR(st.st_mode)) throw Error("--workdir " + dir + ": not a directory");
    const bool own_ids = uid == ::geteuid() && gid == ::getegid();
    // A root caller's sandbox reaches a directory of another, non-root owner through an
    // idmapped bind (helper/idmap.hpp): it writes there as that owner. A root-owned one is
    // never mapped.
    const bool idmapped = !own_ids && ::geteuid() == 0 && st.st_uid != 0;
    const bool writable = own_ids    ? ::faccessat(AT_FDCWD, dir.c_str(), W_OK | X_OK, AT_EACCESS) == 0
                          : idmapped ? mode_grants_write(st, st.st_uid, st.st_gid)
                                     : mode_grants_write(st, uid, gid);
    if (writable) return;
    if (!own_ids && ::geteuid() == 0)
        throw Error("--workdir " + dir + ": not writable by the sandbox, which runs as host uid " + std::to_string(uid) +
                    " leased for this run (the directory is owned by uid " + std::to_string(st.st_uid) +
                    "); give the directory to the account whose files the output should be, e.g. "
                    "install -d -o www-data -g www-data " + dir + ": it is then bound idmapped and files land as "
                    "that account (a root-owned directory is never mapped)");
    throw Error("--workdir " + dir + ": not writable by host uid " + std::to_string(uid) +
                ", which the sandbox runs as (the directory is owned by uid " + std::to_string(st.st_uid) +
                "); give that uid write access first, e.g. chown " + std::to_string(uid) + " " + dir);
}

}  // namespace aj::runner
