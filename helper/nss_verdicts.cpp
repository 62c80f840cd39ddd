#include "helper/nss_verdicts.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <memory>
#include <set>
#include <string_view>
#include <sstream>

#include "helper/id_pool.hpp"
#include "policy/atomic_write.hpp"
#include "policy/error.hpp"
#include "policy/sys.hpp"

namespace aj::helper {

namespace {

using sys::UniqueFd;

constexpr const char* kBatchLock = "nss-verified.lock";
constexpr const char* kHeader = "aurora-jail nss verdicts 1";

// The modules nsswitch.conf names for `database` ("passwd", "group"), action items such
// as [NOTFOUND=return] left out; empty when the database has no line.
std::vector<std::string> modules_for(const std::string& nsswitch, const std::string& database) {
    std::istringstream lines(nsswitch);
    std::vector<std::string> modules;
    for (std::string line; std::getline(lines, line);) {
        line = line.substr(0, line.find('#'));
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::istringstream key(line.substr(0, colon));
        std::string name;
        if (!(key >> name) || name != database) continue;
        modules.clear();  // glibc takes the last line for a database
        std::istringstream words(line.substr(colon + 1));
        for (std::string w; words >> w;)
            if (w.front() != '[') modules.push_back(w);
    }
    return modules;
}

// What a file looks like (followed through symlinks: a linked passwd is its target); for
// a directory, each of its entries too (a userdb record edited in place changes its own
// times, not the directory's).
std::string stat_print(const std::string& path, bool with_entries = true) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return path + " " + errno_name(errno) + "\n";
    std::ostringstream out;
    out << path << ' ' << st.st_dev << ' ' << st.st_ino << ' ' << st.st_mode << ' ' << st.st_size << ' '
        << st.st_mtim.tv_sec << '.' << st.st_mtim.tv_nsec << ' ' << st.st_ctim.tv_sec << '.' << st.st_ctim.tv_nsec
        << '\n';
    if (!S_ISDIR(st.st_mode) || !with_entries) return out.str();
    const std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(path.c_str()), &::closedir);
    if (!dir) return out.str() + "unreadable " + errno_name(errno) + "\n";
    std::set<std::string> names;  // readdir's order is not stable
    while (const dirent* e = ::readdir(dir.get()))
        if (std::string_view(e->d_name) != "." && std::string_view(e->d_name) != "..") names.insert(e->d_name);
    for (const auto& name : names) out << stat_print(path + "/" + name, false);
    return out.str();
}

// One hex word: the batch file holds the print's hash, not the print itself (paths and
// inode numbers do not belong in a file named after NSS verdicts).
std::string hash_hex(const std::string& text) {
    std::uint64_t h = 1469598103934665603ull;  // FNV-1a, 64 bits: a change detector, not a MAC
    for (unsigned char c : text) {
        h ^= c;
        h *= 1099511628211ull;
    }
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
}

std::optional<std::int64_t> to_int(const std::string& s) {
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
    return v;
}

struct Batch {
    std::string fingerprint;
    std::int64_t checked_at = 0;
    std::string nonce;  // names this batch in the taken count (the lock file)
    std::vector<uid_t> ids;
};

// The batch file's text: the header, "fingerprint F", "checked_at T", "nonce N", then one
// number a line, then "end" (a torn or truncated file is recognised and refused).
std::string serialize(const Batch& b) {
    // Appended piece by piece: GCC 12's -Warray-bounds misreads the inlined chain of
    // temporaries that `a + b + c` builds here (a false positive under -Werror).
    std::string out(kHeader);
    for (const std::string& piece : {std::string("\nfingerprint "), b.fingerprint, std::string("\nchecked_at "),
                                     std::to_string(b.checked_at), std::string("\nnonce "), b.nonce,
                                     std::string("\n")})
        out += piece;
    for (uid_t id : b.ids) {
        out += std::to_string(id);
        out += '\n';
    }
    out += "end\n";
    return out;
}

std::optional<Batch> parse(const std::string& text, const IdRange& range) {
    std::istringstream in(text);
    std::string line;
    Batch b;
    if (!std::getline(in, line) || line != kHeader) return std::nullopt;
    if (!std::getline(in, line) || !line.starts_with("fingerprint ")) return std::nullopt;
    b.fingerprint = line.substr(12);
    if (!std::getline(in, line) || !line.starts_with("checked_at ")) return std::nullopt;
    const auto at = to_int(line.substr(11));
    if (!at) return std::nullopt;
    b.checked_at = *at;
    if (!std::getline(in, line) || !line.starts_with("nonce ") || line.size() != 6 + 16) return std::nullopt;
    b.nonce = line.substr(6);
    bool ended = false;
    while (std::getline(in, line)) {
        if (ended) return std::nullopt;
        if (line == "end") {
            ended = true;
            continue;
        }
        const auto id = to_int(line);
        if (!id || *id < range.first || *id - range.first >= range.count) return std::nullopt;
        b.ids.push_back(static_cast<uid_t>(*id));
    }
    if (!ended) return std::nullopt;
    return b;
}

// How many numbers of the batch named `nonce` were taken, from the lock file's text
// "NONCE COUNT" (fixed width, rewritten in place): 0 for an empty file or another
// batch's count, nullopt for anything else (then nothing more is taken from this batch).
std::optional<std::size_t> taken_count(const std::string& text, const std::string& nonce) {
    if (text.empty()) return 0;
    std::istringstream in(text);
    std::string name, count;
    if (!(in >> name >> count)) return std::nullopt;
    if (name != nonce) return 0;
    const auto n = to_int(count);
    if (!n || *n < 0) return std::nullopt;
    return static_cast<std::size_t>(*n);
}

std::string random_nonce() {
    std::uint64_t r = 0;
    if (::getrandom(&r, sizeof r, 0) != static_cast<ssize_t>(sizeof r)) throw_errno("getrandom");
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(r));
    return buf;
}

// An exclusive flock on the batch's lock file for as long as it lives.
UniqueFd lock_batch(int dir_fd) {
    UniqueFd lock(sys::retry_eintr(
        [&] { return ::openat(dir_fd, kBatchLock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600); }));
    if (!lock) throw_errno(std::string("opening the NSS verdict lock ") + kBatchLock);
    if (sys::retry_eintr([&] { return ::flock(lock.get(), LOCK_EX); }) != 0)
        throw_errno(std::string("locking ") + kBatchLock);
    return lock;
}

}  // namespace

std::optional<std::string> nss_fingerprint(const NssSources& sources) {
    std::string nsswitch;
    try {
        nsswitch = sys::read_file(sources.nsswitch, 1 << 20);
    } catch (const Error&) {
        return std::nullopt;  // glibc's built-in defaults: not worth trusting to a cache
    }
    static const std::set<std::string> kLocal = {"files", "systemd"};
    for (const char* database : {"passwd", "group"}) {
        const auto modules = modules_for(nsswitch, database);
        if (modules.empty()) return std::nullopt;
        for (const auto& m : modules)
            if (!kLocal.contains(m)) return std::nullopt;
    }
    std::string print = stat_print(sources.nsswitch) + nsswitch;
    for (const auto& path : sources.watched) print += stat_print(path);
    return hash_hex(print);
}

std::optional<uid_t> VerifiedIds::take(const IdRange& range, const std::string& fingerprint, std::int64_t now_sec) {
    // The batch file is written once; the lock file counts what was taken from it, in
    // place: no rename and no fsync on a run's path (a crash loses at most the count,
    // and a count that does not parse ends the batch).
    const UniqueFd lock = lock_batch(dir_fd_);
    UniqueFd file(sys::retry_eintr(
        [&] { return ::openat(dir_fd_, kBatchFile, O_RDONLY | O_NOFOLLOW | O_CLOEXEC); }));
    if (!file) {
        if (errno == ENOENT) return std::nullopt;
        throw_errno(std::string("opening the NSS verdicts ") + kBatchFile);
    }
    const auto batch = parse(sys::read_all(file.get(), 1 << 20, "reading the NSS verdicts"), range);
    file.reset();
    if (!batch || batch->ids.empty()) return std::nullopt;
    if (batch->fingerprint != fingerprint || now_sec < batch->checked_at ||
        now_sec - batch->checked_at >= kVerdictLifetimeSec) {
        // Stale: nothing in it may be handed out again.
        sys::check(::unlinkat(dir_fd_, kBatchFile, 0), "removing stale NSS verdicts");
        return std::nullopt;
    }
    char text[64] = {};
    const ssize_t n = sys::retry_eintr([&] { return ::pread(lock.get(), text, sizeof text - 1, 0); });
    if (n < 0) throw_errno(std::string("reading ") + kBatchLock);
    const auto taken = taken_count(std::string(text, static_cast<std::size_t>(n)), batch->nonce);
    if (!taken || *taken >= batch->ids.size()) return std::nullopt;
    char count[64];
    const int len = std::snprintf(count, sizeof count, "%s %010zu\n", batch->nonce.c_str(), *taken + 1);
    if (sys::retry_eintr([&] { return ::pwrite(lock.get(), count, static_cast<std::size_t>(len), 0); }) != len)
        throw_errno(std::string("counting in ") + kBatchLock);
    return batch->ids[*taken];
}

void VerifiedIds::store(const std::string& fingerprint, std::int64_t checked_at_sec, const std::vector<uid_t>& ids) {
    const UniqueFd lock = lock_batch(dir_fd_);
    sys::write_file_atomic(dir_fd_, kBatchFile, serialize(Batch{fingerprint, checked_at_sec, random_nonce(), ids}),
                           0600);
}

std::vector<uid_t> random_ids(const IdRange& range, std::size_t count) {
    std::vector<std::uint32_t> r(count);
    const auto bytes = static_cast<ssize_t>(r.size() * sizeof(std::uint32_t));
    if (count > 0 && ::getrandom(r.data(), static_cast<std::size_t>(bytes), 0) != bytes)
        throw_errno("getrandom");
    std::set<uid_t> seen;
    std::vector<uid_t> ids;
    for (std::uint32_t v : r)
        if (const uid_t id = range.first + static_cast<uid_t>(v % range.count); seen.insert(id).second)
            ids.push_back(id);
    return ids;
}

std::int64_t now_seconds() {
    // The boot clock: nobody can set it back, and the batch (under /run) dies with the boot.
    timespec ts{};
    ::clock_gettime(CLOCK_BOOTTIME, &ts);
    return ts.tv_sec;
}

}  // namespace aj::helper
