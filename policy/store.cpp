#include "policy/store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <random>

#include "policy/error.hpp"
#include "policy/parse.hpp"
#include "policy/text.hpp"

namespace aj::policy {
namespace {

class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() {
        if (fd_ >= 0) close(fd_);
    }
    int get() const { return fd_; }
    // Closing reports write-back errors (NFS, quota) that a destructor would drop.
    void close_checked(const std::string& what) {
        int fd = fd_;
        fd_ = -1;
        if (close(fd) != 0 && errno != EINTR) throw_errno(what);
    }

private:
    int fd_;
};

void require_name(const std::string& name) {
    if (!valid_policy_name(name))
        throw Error("invalid policy name " + quote(name) +
                    ": use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit, no \"..\"");
}

std::string temp_suffix() {
    std::random_device rd;
    static const char digits[] = "0123456789abcdef";
    std::string s;
    for (int i = 0; i < 12; ++i) s += digits[rd() % 16];
    return s;
}

void write_all(int fd, const std::string& data, const std::string& what) {
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_errno(what);
        done += static_cast<std::size_t>(n);
    }
}

}  // namespace

bool valid_policy_name(const std::string& name) {
    if (name.empty() || name.size() > 64 || name.find("..") != std::string::npos) return false;
    auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
    if (!alnum(name.front())) return false;
    return std::all_of(name.begin(), name.end(),
                       [&](char c) { return alnum(c) || c == '.' || c == '_' || c == '-'; });
}

std::string write_policy(const std::string& dir, const std::string& name,
                         const std::string& policy_json, const std::string& source) {
    require_name(name);
    // Validate first: an invalid policy must never replace a valid one.
    parse_policy(policy_json, source);

    std::string final_path = dir + "/" + name + ".json";
    Fd dirfd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dirfd.get() < 0) throw_errno("writing policy " + name + ": opening directory " + dir);

    // The temp name starts with '.', so list_policies never shows a half-written file.
    const std::string temp_name = "." + name + ".json." + temp_suffix() + ".tmp";
    const std::string temp_path = dir + "/" + temp_name;
    Fd fd(openat(dirfd.get(), temp_name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (fd.get() < 0) throw_errno("writing policy " + name + ": creating " + temp_path);
    try {
        std::string text = policy_json;
        if (text.empty() || text.back() != '\n') text += '\n';
        write_all(fd.get(), text, "writing policy " + name + ": " + temp_path);
        if (fsync(fd.get()) != 0) throw_errno("writing policy " + name + ": fsync " + temp_path);
        fd.close_checked("writing policy " + name + ": closing " + temp_path);
        if (renameat(dirfd.get(), temp_name.c_str(), dirfd.get(), (name + ".json").c_str()) != 0)
            throw_errno("writing policy " + name + ": renaming to " + final_path);
    } catch (...) {
        unlinkat(dirfd.get(), temp_name.c_str(), 0);
        throw;
    }
    // The rename is durable only once the directory itself is on disk.
    if (fsync(dirfd.get()) != 0) throw_errno("writing policy " + name + ": fsync directory " + dir);
    return final_path;
}

Policy load_named_policy(const std::string& dir, const std::string& name) {
    require_name(name);
    const std::string path = dir + "/" + name + ".json";
    struct stat st {};
    if (stat(path.c_str(), &st) != 0 && errno == ENOENT)
        throw Error("policy " + quote(name) + " not found in " + dir + " (write it with `aurora-jail policy write`)");
    return load_policy_file(path);
}

std::vector<std::string> list_policies(const std::string& dir) {
    std::vector<std::string> names;
    std::unique_ptr<DIR, int (*)(DIR*)> d(opendir(dir.c_str()), &closedir);
    if (!d) {
        if (errno == ENOENT) return names;
        throw_errno("listing policies in " + dir);
    }
    errno = 0;
    while (const dirent* e = readdir(d.get())) {
        std::string file = e->d_name;
        if (file.size() > 5 && file.ends_with(".json")) {
            std::string name = file.substr(0, file.size() - 5);
            if (valid_policy_name(name)) names.push_back(name);
        }
        errno = 0;
    }
    if (errno != 0) throw_errno("listing policies in " + dir);
    std::sort(names.begin(), names.end());
    return names;
}

ResolvedPolicy resolve_policy(const std::string& file_or_name, const std::vector<std::string>& dirs) {
    if (file_or_name.find('/') != std::string::npos || file_or_name.ends_with(".json"))
        return {file_or_name, load_policy_file(file_or_name)};
    require_name(file_or_name);
    std::string searched;
    for (const auto& dir : dirs) {
        if (dir.empty()) continue;
        const std::string path = dir + "/" + file_or_name + ".json";
        struct stat st {};
        if (stat(path.c_str(), &st) == 0) return {path, load_policy_file(path)};
        if (errno != ENOENT) throw_errno("looking up policy " + quote(file_or_name) + " at " + path);
        searched += (searched.empty() ? "" : ", ") + dir;
    }
    throw Error("policy " + quote(file_or_name) + " not found (searched: " +
                (searched.empty() ? std::string("no policy directory") : searched) + ")");
}

}  // namespace aj::policy
