// NSS's verdict on host ids, checked a batch at a time (helper/id_pool.hpp). Asking NSS
// costs a root caller's run 2-6 ms of CPU with nss-systemd (a forked child loading its
// modules), about as much as the rest of a sandbox's start. So a run that has to ask
// anyway also checks a batch of other random numbers of the range in the same child, and
// the following runs take their number from that batch without asking.
//
// Why a number from the batch is as safe as one asked for at lease time:
//   - Only where every source nsswitch.conf names for passwd and group keeps its data in
//     local files ("files", "systemd"): a network source (ldap, sss, nis, winbind...)
//     can gain an account without anything local changing, so such a host always asks.
//   - The batch carries the fingerprint (device, inode, size, mtime, ctime) of every file
//     and directory those sources read, taken before its lookups; any change there (an
//     account added, nsswitch.conf edited, a userdb record or service appearing) makes
//     the batch unusable at once.
//   - It expires kVerdictLifetime after its lookups whatever happens: a userdb service
//     answering over varlink can change its answers without changing a file.
//   - A number leaves the batch when it is taken: it is handed out once, and the range
//     is still used at random (reuse is no likelier than without the batch).
//   - The batch file lives in the lease directory (root's, 0700), written atomically,
//     0600, under a lock; anything it holds that does not parse, or lies outside the
//     range, makes the whole batch unusable.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace aj::helper {

struct IdRange;

inline constexpr std::int64_t kVerdictLifetimeSec = 60;
inline constexpr std::size_t kVerdictBatch = 32;

// Where NSS's data for passwd and group lives. Tests point it elsewhere.
struct NssSources {
    std::string nsswitch = "/etc/nsswitch.conf";
    // What the "files" and "systemd" modules read (a missing path is part of the print).
    std::vector<std::string> watched = {"/etc/passwd",         "/etc/group",        "/etc/userdb",
                                        "/run/userdb",         "/run/host/userdb",  "/usr/local/lib/userdb",
                                        "/usr/lib/userdb",     "/run/systemd/userdb"};
};

// The fingerprint of NSS's local data, or nullopt when passwd or group is served by a
// source other than files and systemd (or nsswitch.conf does not say): no batch then.
std::optional<std::string> nss_fingerprint(const NssSources& sources = {});

// The batch file (kBatchFile) and its lock inside the lease directory open at `dir_fd`.
class VerifiedIds {
public:
    explicit VerifiedIds(int dir_fd) : dir_fd_(dir_fd) {}

    // Takes one number out of a usable batch for `fingerprint` within `range`; nullopt
    // when there is none (no batch, stale, expired, malformed, or empty).
    std::optional<uid_t> take(const IdRange& range, const std::string& fingerprint, std::int64_t now_sec);

    // Replaces the batch with `ids`, checked under `fingerprint` at `checked_at_sec`.
    void store(const std::string& fingerprint, std::int64_t checked_at_sec, const std::vector<uid_t>& ids);

    static constexpr const char* kBatchFile = "nss-verified";

private:
    int dir_fd_;
};

// Up to `count` distinct random numbers of `range`, for a batch to check.
std::vector<uid_t> random_ids(const IdRange& range, std::size_t count);

// Seconds since boot (the batch's lifetime is counted in them).
std::int64_t now_seconds();

}  // namespace aj::helper
