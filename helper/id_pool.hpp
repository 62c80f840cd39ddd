// Host identities for root callers' sandboxes: each run started by root gets a host uid
// and gid of its own, leased from a reserved range for exactly as long as it lives; an
// aurora-runc container may instead get a block of 65536 of them (its ids 0..65535).
//
// The contract (the lock protocol, like runner/queue.hpp's, stated first):
//   - The range comes from one file, kIdsConf ("first = N" and "count = N" lines; '#'
//     comments). Missing file: the built-in kDefaultFirst/kDefaultCount. The same file
//     holds the block range ("block_first = N", "block_count = N": N blocks of kBlockSize
//     ids from block_first; default kDefaultBlockFirst/kDefaultBlockCount).
//   - Uid N and gid N are leased together. A sandbox runs as them only when NSS knows
//     neither a user nor a group with that number (getpwuid_r/getgrgid_r): never as an
//     account of the host. NSS can take milliseconds (loading its modules: 2-6 ms of
//     CPU with nss-systemd on Debian 12, as much as a sandbox's start), so:
//       * a number is first taken from the batch NSS last checked (nss_verdicts.hpp says
//         when one is usable and why that is as safe as asking);
//       * otherwise a foreground run asks in a child process started with the lease, and
//         the launch takes the answer (confirm_unknown_to_nss) just before anything of
//         the sandbox may run; a known number ends that launch with HostIdsKnownToNss
//         before any command exists, and the caller leases another. The same child then
//         checks a new batch; the lease waits for it (briefly) when it ends.
//   - The lease is an exclusive flock on kLockDir/N (a root-only directory; files 0600),
//     taken without blocking. The lock, not the file, is the lease: it is released when
//     the holder closes the fd or dies (a crashed runner leaks nothing), and the file is
//     left in place (unlinking a lock file races with the next taker).
//   - The holder keeps the lease open until its sandbox is over: runner processes only
//     (the sandbox's own fds are closed before anything untrusted runs).
//   - A block is leased the same way: an exclusive flock on kLockDir/block-FIRST. Its
//     65536 numbers are checked against NSS in one walk of every passwd and group entry
//     (ids_known_to_nss), and a block holding one is skipped. A walk lists every account
//     only where NSS's sources are local files (nss_verdicts.hpp's rule): elsewhere no
//     block is leased at all.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "helper/launch.hpp"
#include "policy/sys.hpp"

namespace aj::helper {

constexpr const char* kIdsConf = "/etc/aurora-jail/ids.conf";
constexpr const char* kLockDir = "/run/aurora-jail/ids";
// 0x70000000 + 64 Ki: above Debian's /etc/subuid delegations (SUB_UID_MAX 600100000) and
// systemd's container range (0x00080000-0x6FFFFFFF), below the ids systemd keeps for
// itself (0x7FFE0000 up) and far from 65534 and (uid_t)-1.
constexpr uid_t kDefaultFirst = 0x70000000;
constexpr uid_t kDefaultCount = 65536;
// Blocks for aurora-runc containers: above the single ids, below systemd's 0x7FFE0000.
constexpr uid_t kBlockSize = 65536;
constexpr uid_t kDefaultBlockFirst = kDefaultFirst + kDefaultCount;
constexpr uid_t kDefaultBlockCount = (0x7FFE0000u - kDefaultBlockFirst) / kBlockSize;

struct IdRange {
    uid_t first = kDefaultFirst;
    uid_t count = kDefaultCount;
    uid_t block_first = kDefaultBlockFirst;
    uid_t block_count = kDefaultBlockCount;  // blocks of kBlockSize ids
};

// Parses the text of an ids.conf; throws aj::Error naming `origin` and the line on a bad
// key or value, or a range (single ids or blocks) that reaches 0, 65534, 65535 or beyond
// 2^31-2. Whether the two ranges overlap is checked where blocks are leased
// (lease_block_if_root): a single-id range that grew into the default blocks keeps
// working for `aurora-jail run`.
IdRange parse_id_range(const std::string& text, const std::string& origin);
// The range in force: `path` parsed, or the default when it does not exist.
IdRange load_id_range(const std::string& path = kIdsConf);

// The leased number turned out to be an account (or group) NSS knows.
class HostIdsKnownToNss : public Error {
public:
    using Error::Error;
};

enum class NssCheck {
    Now,         // asked before lease_host_ids returns; the lease is confirmed
    Background,  // asked by a child process; confirm_unknown_to_nss() takes the answer
};

// What a Background check does after answering for the leased number: check `ids` too
// and store the unknown ones as the batch of `fingerprint` in the directory `dir_fd`.
struct BatchRefill {
    int dir_fd = -1;
    std::string fingerprint;
    std::vector<uid_t> ids;
};

// A host uid/gid pair (the same number) and the lock that reserves it.
class HostIdLease {
public:
    HostIdLease(uid_t id, sys::UniqueFd lock, NssCheck check, const BatchRefill& refill = {});
    // A number NSS's batch already vouches for (nss_verdicts.hpp).
    static HostIdLease from_batch(uid_t id, sys::UniqueFd lock);
    ~HostIdLease();
    HostIdLease(HostIdLease&& other) noexcept;
    HostIdLease& operator=(HostIdLease&&) = delete;
    HostIdLease(const HostIdLease&) = delete;
    HostIdLease& operator=(const HostIdLease&) = delete;

    uid_t uid() const { return uid_; }
    gid_t gid() const { return static_cast<gid_t>(uid_); }
    // Returns once NSS is known not to have the number (at once after the first time);
    // throws HostIdsKnownToNss when it has, aj::Error when NSS could not be asked.
    void confirm_unknown_to_nss();

private:
    HostIdLease(uid_t id, sys::UniqueFd lock);  // confirmed
    uid_t uid_;
    sys::UniqueFd lock_;
    pid_t checker_ = -1;      // NssCheck::Background: the asking child, until reaped
    sys::UniqueFd checker_fd_;  // its pidfd (it may outlive the answer while it checks a batch)
    sys::UniqueFd verdict_;   // its answer: "u" unknown, "k" known, or "e" + an error
    bool confirmed_ = false;
};

// Leases a free uid/gid from `range`: a number of NSS's last batch when one is usable,
// else one from a random offset (two runs rarely try the same numbers; a released
// number is rarely reused at once). Creates `lock_dir`
// (0700, and its parent 0755) when missing and refuses one that is not a root-owned
// directory writable by root alone. Throws aj::Error when every number is taken.
HostIdLease lease_host_ids(const IdRange& range, NssCheck check, const std::string& lock_dir = kLockDir);

// For a root caller (in the initial user namespace), a lease from the configured range;
// nullopt for anyone else (their sandbox is their own uid/gid).
std::optional<HostIdLease> lease_if_root(NssCheck check);
// The host ids a sandbox of this caller runs as: the lease's, or the caller's own.
HostIds sandbox_host_ids(const std::optional<HostIdLease>& lease);

// True when NSS (passwd, group) knows the number as a user or a group.
bool id_known_to_nss(std::uint32_t id);

// Every uid and gid NSS lists (each passwd entry's uid and primary gid, each group's gid),
// sorted, in one walk (getpwent_r/getgrent_r). Complete only where nss_fingerprint() says
// the sources are local; nullopt elsewhere. Throws aj::Error when NSS cannot be walked.
std::optional<std::vector<std::uint32_t>> ids_known_to_nss();
// Whether the sorted `known` holds an id of [first, first + count).
bool any_known(const std::vector<std::uint32_t>& known, std::uint64_t first, std::uint64_t count);
// Whether [first, first + count) overlaps the single ids or the blocks of `range`.
bool overlaps_reserved(const IdRange& range, std::uint64_t first, std::uint64_t count);

// kBlockSize host uids and gids (the same numbers) from first(), and the lock that
// reserves them; released when the object goes.
class HostIdBlockLease {
public:
    HostIdBlockLease(uid_t first, sys::UniqueFd lock) : first_(first), lock_(std::move(lock)) {}
    uid_t first() const { return first_; }

private:
    uid_t first_;
    sys::UniqueFd lock_;
};

// Leases a free block of `range` none of whose ids is in the sorted `known` (from
// ids_known_to_nss), starting at a random block. The lock directory as lease_host_ids.
// Throws aj::Error when every block is taken or known.
HostIdBlockLease lease_host_id_block(const IdRange& range, const std::vector<std::uint32_t>& known,
                                     const std::string& lock_dir = kLockDir);

// For a root caller in the initial user namespace, a block of `range` (load_id_range's)
// none of whose ids is in `known` (ids_known_to_nss's, taken moments before); nullopt for
// anyone else, or without `known` (NSS cannot list every account): the caller keeps one
// id, leased or its own. Throws when the range's single ids and blocks overlap.
std::optional<HostIdBlockLease> lease_block_if_root(const IdRange& range,
                                                    const std::optional<std::vector<std::uint32_t>>& known);

}  // namespace aj::helper
