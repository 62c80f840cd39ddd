#include "helper/id_pool.hpp"

#include <fcntl.h>
#include <poll.h>
#include <grp.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cerrno>
#include <charconv>
#include <limits>
#include <utility>
#include <vector>

#include "helper/fds.hpp"
#include "helper/nss_verdicts.hpp"
#include "helper/userns.hpp"
#include "policy/error.hpp"

namespace aj::helper {

namespace {

using sys::UniqueFd;

std::string trim(const std::string& s) {
    const auto first = s.find_first_not_of(" \t\r");
    if (first == std::string::npos) return "";
    return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

std::uint64_t parse_number(const std::string& value, const std::string& where) {
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc() || end != value.data() + value.size() || value.empty())
        throw Error(where + ": expected a decimal number, got \"" + value + "\"");
    return n;
}

// The lookup answers "not found" with 0 and no result, or (glibc documents several) with
// ENOENT, ESRCH, EBADF or EPERM. Any other error means NSS could not be asked: refusing
// the number is the only safe answer then, and the caller says why.
template <typename Entry, typename Lookup>
bool known(std::uint32_t id, Lookup lookup, const char* what) {
    std::vector<char> buffer(4096);
    for (;;) {
        Entry entry{};
        Entry* result = nullptr;
        const int rc = lookup(id, &entry, buffer.data(), buffer.size(), &result);
        if (rc == 0) return result != nullptr;
        if (rc == ERANGE && buffer.size() < (1u << 20)) {
            buffer.resize(buffer.size() * 2);
            continue;
        }
        if (rc == ENOENT || rc == ESRCH || rc == EBADF || rc == EPERM) return false;
        throw Error(std::string("looking up ") + what + " " + std::to_string(id) + " in NSS: " + errno_text(rc),
                    kExitInternal, rc);
    }
}

// mkdir `path` with `mode` unless it exists; then insist on a root-owned directory that
// nobody but root may write into (a lease is only as good as the directory holding it).
UniqueFd open_trusted_dir(const std::string& path, mode_t mode) {
    if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) throw_errno("creating " + path);
    UniqueFd dir = sys::open_fd(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, "opening " + path);
    struct stat st{};
    sys::check(::fstat(dir.get(), &st), "inspecting " + path);
    if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
        throw Error(path + " must be a directory owned by root and writable by root only (it holds the host "
                           "uid leases of root callers' sandboxes)");
    return dir;
}

std::uint32_t random_below(std::uint32_t bound) {
    std::uint32_t r = 0;
    if (::getrandom(&r, sizeof r, 0) != static_cast<ssize_t>(sizeof r)) throw_errno("getrandom");
    return bound == 0 ? 0 : r % bound;
}

}  // namespace

bool id_known_to_nss(std::uint32_t id) {
    return known<passwd>(id, ::getpwuid_r, "uid") || known<group>(id, ::getgrgid_r, "gid");
}

IdRange parse_id_range(const std::string& text, const std::string& origin) {
    IdRange range;
    std::size_t line_no = 0, pos = 0;
    while (pos <= text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        std::string line = trim(text.substr(pos, end - pos));
        pos = end + 1;
        ++line_no;
        if (line.empty() || line[0] == '#') continue;
        const std::string where = origin + ":" + std::to_string(line_no);
        const auto eq = line.find('=');
        if (eq == std::string::npos) throw Error(where + ": expected \"first = N\" or \"count = N\"");
        const std::string key = trim(line.substr(0, eq));
        const std::uint64_t value = parse_number(trim(line.substr(eq + 1)), where);
        if (value > std::numeric_limits<uid_t>::max()) throw Error(where + ": " + key + " is too large");
        if (key == "first") range.first = static_cast<uid_t>(value);
        else if (key == "count") range.count = static_cast<uid_t>(value);
        else if (key == "block_first") range.block_first = static_cast<uid_t>(value);
        else if (key == "block_count") range.block_count = static_cast<uid_t>(value);
        else
            throw Error(where + ": unknown key \"" + key + "\" (expected first, count, block_first or block_count)");
    }
    auto check = [&](const char* what, std::uint64_t first, std::uint64_t count) {
        const std::uint64_t last = first + count - 1;
        auto contains = [&](std::uint64_t id) { return id >= first && id <= last; };
        if (count == 0 || first == 0 || last > 0x7FFFFFFEu || contains(65534) || contains(65535))
            throw Error(origin + ": the " + what + " " + std::to_string(first) + "+" + std::to_string(count) +
                        " must be non-empty and leave out 0, 65534, 65535 and everything above 2147483646");
    };
    check("range", range.first, range.count);
    check("block range", range.block_first, std::uint64_t{range.block_count} * kBlockSize);
    return range;
}

bool overlaps_reserved(const IdRange& range, std::uint64_t first, std::uint64_t count) {
    auto overlap = [&](std::uint64_t other, std::uint64_t other_count) {
        return first < other + other_count && other < first + count;
    };
    return overlap(range.first, range.count) ||
           overlap(range.block_first, std::uint64_t{range.block_count} * kBlockSize);
}

bool any_known(const std::vector<std::uint32_t>& known, std::uint64_t first, std::uint64_t count) {
    const auto it = std::lower_bound(known.begin(), known.end(), first);
    return it != known.end() && *it - first < count;
}

namespace {

// One getpwent_r/getgrent_r walk; `add` takes each entry. The caller opened the database.
template <typename Entry, typename Next, typename Add>
void walk_entries(Next next, Add add, const char* what) {
    std::vector<char> buffer(16384);
    for (;;) {
        Entry entry{};
        Entry* result = nullptr;
        const int rc = next(&entry, buffer.data(), buffer.size(), &result);
        // glibc hands the same entry again after ERANGE.
        if (rc == ERANGE && buffer.size() < (1u << 20)) {
            buffer.resize(buffer.size() * 2);
            continue;
        }
        if (rc == ENOENT || (rc == 0 && result == nullptr)) return;
        if (rc != 0)
            throw Error(std::string("listing NSS's ") + what + " entries: " + errno_text(rc), kExitInternal, rc);
        add(*result);
    }
}

// Ends an NSS walk whichever way it leaves.
struct EndWalk {
    void (*end)();
    ~EndWalk() { end(); }
};

}  // namespace

std::optional<std::vector<std::uint32_t>> ids_known_to_nss() {
    // A network source may list only some accounts (or none): only local ones are walked.
    if (!nss_fingerprint()) return std::nullopt;
    std::vector<std::uint32_t> ids;
    {
        ::setpwent();
        const EndWalk end{::endpwent};
        walk_entries<passwd>(::getpwent_r, [&](const passwd& p) {
            ids.push_back(p.pw_uid);
            ids.push_back(p.pw_gid);
        }, "passwd");
    }
    {
        ::setgrent();
        const EndWalk end{::endgrent};
        walk_entries<group>(::getgrent_r, [&](const group& g) { ids.push_back(g.gr_gid); }, "group");
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    return ids;
}

IdRange load_id_range(const std::string& path) {
    UniqueFd fd(sys::retry_eintr([&] { return ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW); }));
    if (!fd) {
        if (errno == ENOENT) return IdRange{};
        throw_errno("opening " + path);
    }
    return parse_id_range(sys::read_all(fd.get(), 64 * 1024, "reading " + path), path);
}

namespace {

// The Background check's child: answers for `id` first (and closes the answer, so the
// launch never waits for more), then checks the refill's batch and stores what NSS does
// not know.
[[noreturn]] void check_in_child(uid_t id, sys::UniqueFd answer, const BatchRefill& refill) {
    std::string reply;
    try {
        reply = id_known_to_nss(id) ? "k" : "u";
    } catch (const std::exception& e) {
        reply = std::string("e") + e.what();
    }
    (void)!::write(answer.get(), reply.data(), reply.size());
    answer.reset();
    if (reply != "u" || refill.ids.empty() || refill.dir_fd < 0) ::_exit(0);
    try {
        std::vector<uid_t> unknown;
        for (uid_t other : refill.ids)
            if (other != id && !id_known_to_nss(other)) unknown.push_back(other);
        // The time the lookups began would be stricter; the fingerprint, taken before
        // them, already catches any local change made meanwhile.
        VerifiedIds(refill.dir_fd).store(refill.fingerprint, now_seconds(), unknown);
    } catch (const std::exception&) {
        // No batch this time: the next run asks NSS itself.
    }
    ::_exit(0);
}

// How long a finished run waits for its check to store a batch before ending it.
constexpr int kBatchGraceMs = 250;

}  // namespace

HostIdLease::HostIdLease(uid_t id, sys::UniqueFd lock) : uid_(id), lock_(std::move(lock)), confirmed_(true) {}

HostIdLease HostIdLease::from_batch(uid_t id, sys::UniqueFd lock) { return HostIdLease(id, std::move(lock)); }

HostIdLease::HostIdLease(uid_t id, sys::UniqueFd lock, NssCheck check, const BatchRefill& refill)
    : uid_(id), lock_(std::move(lock)) {
    if (check == NssCheck::Now) {
        if (id_known_to_nss(id))
            throw HostIdsKnownToNss("host uid " + std::to_string(id) + " is known to NSS as a user or group");
        confirmed_ = true;
        return;
    }
    sys::Pipe answer = sys::make_pipe("creating the NSS check's pipe");
    checker_ = ::fork();
    if (checker_ < 0) throw_errno("forking the NSS check of host uid " + std::to_string(id));
    if (checker_ == 0) {
        answer.read.reset();
        // Nothing but its answer and the batch's directory: a copy of another live
        // lease's lock would hold that flock after the lease ends (the lock is the open
        // file's), so a released number stayed "in use" while this check ran.
        std::vector<int> keep{answer.write.get()};
        if (refill.dir_fd >= 0) keep.push_back(refill.dir_fd);
        try {
            close_fds_except(keep);
        } catch (const std::exception&) {
            ::_exit(1);  // the answer pipe then reads empty: "the check died"
        }
        check_in_child(id, std::move(answer.write), refill);
    }
    // Not reaped before the lease ends, so the pid cannot be reused meanwhile; the pidfd
    // still names it if someone else (a subreaper's sweep) reaps it first.
    checker_fd_ = sys::UniqueFd(sys::pidfd_open(checker_));
    verdict_ = std::move(answer.read);
}

HostIdLease::HostIdLease(HostIdLease&& other) noexcept
    : uid_(other.uid_), lock_(std::move(other.lock_)), checker_(std::exchange(other.checker_, -1)),
      checker_fd_(std::move(other.checker_fd_)), verdict_(std::move(other.verdict_)),
      confirmed_(other.confirmed_) {}

HostIdLease::~HostIdLease() {
    if (checker_ <= 0) return;
    if (checker_fd_) {
        // A check still storing its batch gets a moment; then it ends, batch or not.
        pollfd p{checker_fd_.get(), POLLIN, 0};
        if (confirmed_) sys::retry_eintr([&] { return ::poll(&p, 1, kBatchGraceMs); });
        sys::pidfd_send_signal(checker_fd_.get(), SIGKILL);
        siginfo_t info{};
        sys::retry_eintr([&] { return ::waitid(P_PIDFD, static_cast<id_t>(checker_fd_.get()), &info, WEXITED); });
        return;
    }
    ::kill(checker_, SIGKILL);
    sys::retry_eintr([&] { return ::waitpid(checker_, nullptr, 0); });
}

void HostIdLease::confirm_unknown_to_nss() {
    if (confirmed_) return;
    const std::string reply = sys::read_all(verdict_.get(), 4096, "reading the NSS check's answer");
    verdict_.reset();
    if (reply == "u") {
        confirmed_ = true;
        return;
    }
    if (reply == "k")
        throw HostIdsKnownToNss("host uid " + std::to_string(uid_) + " is known to NSS as a user or group");
    throw Error("checking host uid " + std::to_string(uid_) + " in NSS: " +
                (reply.empty() ? std::string("the check died") : reply.substr(1)));
}

namespace {

// The lease directory, created (its parent 0755, itself 0700) when missing, and trusted.
UniqueFd open_lock_dir(const std::string& lock_dir) {
    const auto slash = lock_dir.rfind('/');
    if (slash != std::string::npos && slash > 0) open_trusted_dir(lock_dir.substr(0, slash), 0755);
    return open_trusted_dir(lock_dir, 0700);
}

// The lease `name` in the directory `dir`, locked; an empty fd when a live holder has it.
UniqueFd lock_lease(int dir, const std::string& lock_dir, const std::string& name) {
    UniqueFd lock(sys::retry_eintr(
        [&] { return ::openat(dir, name.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600); }));
    if (!lock) throw_errno("opening the lease " + lock_dir + "/" + name);
    if (sys::retry_eintr([&] { return ::flock(lock.get(), LOCK_EX | LOCK_NB); }) != 0) {
        if (errno != EWOULDBLOCK) throw_errno("locking the lease " + lock_dir + "/" + name);
        lock.reset();  // a live sandbox has it
    }
    return lock;
}

}  // namespace

HostIdBlockLease lease_host_id_block(const IdRange& range, const std::vector<std::uint32_t>& known,
                                     const std::string& lock_dir) {
    const UniqueFd dir = open_lock_dir(lock_dir);
    const std::uint32_t start = random_below(range.block_count);
    for (std::uint64_t i = 0; i < range.block_count; ++i) {
        const uid_t first = range.block_first + static_cast<uid_t>((start + i) % range.block_count) * kBlockSize;
        if (any_known(known, first, kBlockSize)) continue;  // an account's or group's id is in it
        if (UniqueFd lock = lock_lease(dir.get(), lock_dir, "block-" + std::to_string(first)))
            return HostIdBlockLease(first, std::move(lock));
    }
    throw Error("no free block of host ids for the container: all " + std::to_string(range.block_count) +
                " blocks of " + std::to_string(kBlockSize) + " from " + std::to_string(range.block_first) +
                " are in use or hold an id known to NSS (see " + std::string(kIdsConf) + ")");
}

std::optional<HostIdBlockLease> lease_block_if_root(const IdRange& range,
                                                    const std::optional<std::vector<std::uint32_t>>& known) {
    if (::geteuid() != 0 || !in_initial_user_namespace() || !known) return std::nullopt;
    const std::uint64_t block_end = range.block_first + std::uint64_t{range.block_count} * kBlockSize;
    if (range.first < block_end && range.block_first < std::uint64_t{range.first} + range.count)
        throw Error(std::string(kIdsConf) + ": the block range (block_first, block_count) overlaps the single-id "
                                            "range (first, count)");
    return lease_host_id_block(range, *known);
}

HostIdLease lease_host_ids(const IdRange& range, NssCheck check, const std::string& lock_dir) {
    const UniqueFd dir = open_lock_dir(lock_dir);
    auto try_lock = [&](uid_t id) { return lock_lease(dir.get(), lock_dir, std::to_string(id)); };

    // A number NSS's last batch vouches for, while that batch is usable.
    const std::optional<std::string> fingerprint = nss_fingerprint();
    if (fingerprint) {
        VerifiedIds batch(dir.get());
        while (const auto id = batch.take(range, *fingerprint, now_seconds()))
            if (UniqueFd lock = try_lock(*id)) return HostIdLease::from_batch(*id, std::move(lock));
    }
    BatchRefill refill;
    if (fingerprint && check == NssCheck::Background)
        refill = BatchRefill{dir.get(), *fingerprint, random_ids(range, kVerdictBatch)};

    const std::uint32_t start = random_below(range.count);
    for (std::uint64_t i = 0; i < range.count; ++i) {
        const uid_t id = range.first + static_cast<uid_t>((start + i) % range.count);
        UniqueFd lock = try_lock(id);
        if (!lock) continue;
        // Asked while holding the lock: whatever the answer, no other run is using the number.
        try {
            return HostIdLease(id, std::move(lock), check, refill);
        } catch (const HostIdsKnownToNss&) {
            continue;  // an account: try the next number
        }
    }
    throw Error("no free host uid for the sandbox: all " + std::to_string(range.count) + " ids from " +
                std::to_string(range.first) + " are in use by live sandboxes or known to NSS (see " +
                std::string(kIdsConf) + ")");
}

std::optional<HostIdLease> lease_if_root(NssCheck check) {
    if (::geteuid() != 0 || !in_initial_user_namespace()) return std::nullopt;
    return lease_host_ids(load_id_range(), check);
}

HostIds sandbox_host_ids(const std::optional<HostIdLease>& lease) {
    if (lease) return HostIds{lease->uid(), lease->gid()};
    // A root of a user namespace other than the initial one (choose_identity).
    if (::geteuid() == 0) return namespaced_root_ids();
    return HostIds{::geteuid(), ::getegid()};
}

}  // namespace aj::helper
