// NSS's verdicts checked a batch at a time (helper/nss_verdicts.hpp): only for local
// sources, invalidated by any change to what they read or by age, each number handed out
// once, and a damaged batch file never yields a number.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <set>

#include <gtest/gtest.h>

#include "helper/id_pool.hpp"
#include "helper/nss_verdicts.hpp"
#include "policy/sys.hpp"
#include "tests/support/process.hpp"

namespace aj::helper {
namespace {

struct Sources {
    test::TempDir tmp;
    NssSources nss;
    Sources(const std::string& nsswitch) {
        nss.nsswitch = tmp.write("nsswitch.conf", nsswitch);
        nss.watched = {tmp.write("passwd", "root:x:0:0::/root:/bin/sh\n"), tmp.path() + "/userdb"};
    }
};

TEST(NssFingerprint, OnlyForLocalSources) {
    EXPECT_TRUE(nss_fingerprint(Sources("passwd: files systemd\ngroup: files [SUCCESS=merge] systemd\n").nss));
    EXPECT_TRUE(nss_fingerprint(Sources("passwd: files\ngroup: files\n").nss));
    EXPECT_FALSE(nss_fingerprint(Sources("passwd: files sss\ngroup: files\n").nss)) << "sss: a network source";
    EXPECT_FALSE(nss_fingerprint(Sources("passwd: files\ngroup: files ldap\n").nss));
    EXPECT_FALSE(nss_fingerprint(Sources("passwd: compat\ngroup: compat\n").nss)) << "compat pulls in NIS";
    EXPECT_FALSE(nss_fingerprint(Sources("hosts: files\n").nss)) << "no passwd line: glibc's defaults";
    EXPECT_FALSE(nss_fingerprint(Sources("passwd: files\ngroup: files\ngroup: files winbind\n").nss))
        << "the last line of a database counts";
    Sources missing("passwd: files\ngroup: files\n");
    missing.nss.nsswitch = missing.tmp.path() + "/none";
    EXPECT_FALSE(nss_fingerprint(missing.nss));
}

TEST(NssFingerprint, ChangesWithWhatTheSourcesRead) {
    Sources s("passwd: files systemd\ngroup: files systemd\n");
    const auto before = nss_fingerprint(s.nss);
    ASSERT_TRUE(before);
    EXPECT_EQ(nss_fingerprint(s.nss), before) << "stable while nothing changes";
    s.tmp.write("passwd", "root:x:0:0::/root:/bin/sh\nnew:x:1879048200:1879048200::/:/bin/sh\n");
    const auto after_passwd = nss_fingerprint(s.nss);
    EXPECT_NE(after_passwd, before) << "an account added to passwd";
    ASSERT_EQ(::mkdir((s.tmp.path() + "/userdb").c_str(), 0755), 0);
    const auto with_userdb = nss_fingerprint(s.nss);
    EXPECT_NE(with_userdb, after_passwd) << "a userdb directory appeared";
    const std::string record = s.tmp.write("userdb/x.user", "{}");
    const auto with_record = nss_fingerprint(s.nss);
    EXPECT_NE(with_record, with_userdb) << "a userdb record appeared";
    {
        // Rewritten in place (same inode, the directory untouched), one byte longer.
        std::ofstream(record, std::ios::trunc) << "{ }";
    }
    EXPECT_NE(nss_fingerprint(s.nss), with_record) << "a userdb record edited in place";
}

class VerifiedIdsTest : public testing::Test {
protected:
    void SetUp() override { dir_ = sys::open_fd(tmp_.path(), O_RDONLY | O_DIRECTORY, "open"); }
    test::TempDir tmp_;
    sys::UniqueFd dir_;
    const IdRange range_{kDefaultFirst, 1000};
};

TEST_F(VerifiedIdsTest, EachNumberIsHandedOutOnce) {
    VerifiedIds batch(dir_.get());
    EXPECT_FALSE(batch.take(range_, "f", 100)) << "no batch yet";
    const std::vector<uid_t> ids{kDefaultFirst + 1, kDefaultFirst + 2, kDefaultFirst + 3};
    batch.store("f", 100, ids);
    struct stat st {};
    ASSERT_EQ(::stat((tmp_.path() + "/" + VerifiedIds::kBatchFile).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    std::set<uid_t> got;
    while (auto id = batch.take(range_, "f", 101)) EXPECT_TRUE(got.insert(*id).second) << *id << " twice";
    EXPECT_EQ(got, std::set<uid_t>(ids.begin(), ids.end()));
}

TEST_F(VerifiedIdsTest, AnotherFingerprintOrAgeMakesTheBatchUnusable) {
    VerifiedIds batch(dir_.get());
    batch.store("f", 100, {kDefaultFirst + 1, kDefaultFirst + 2});
    EXPECT_FALSE(batch.take(range_, "g", 101)) << "NSS's files changed since the batch";
    EXPECT_FALSE(batch.take(range_, "f", 101)) << "a stale batch is dropped, not kept for later";
    batch.store("f", 100, {kDefaultFirst + 1, kDefaultFirst + 2});
    EXPECT_FALSE(batch.take(range_, "f", 100 + kVerdictLifetimeSec)) << "expired";
    batch.store("f", 100, {kDefaultFirst + 1});
    EXPECT_FALSE(batch.take(range_, "f", 99)) << "a batch from the future";
}

TEST_F(VerifiedIdsTest, DamagedOrForeignBatchesYieldNothing) {
    VerifiedIds batch(dir_.get());
    const std::string head = "aurora-jail nss verdicts 1\nfingerprint f\nchecked_at 100\nnonce 0123456789abcdef\n";
    const std::string good = head + std::to_string(kDefaultFirst + 5) + "\nend\n";
    auto with = [&](const std::string& text) {
        tmp_.write(VerifiedIds::kBatchFile, text, 0600);
        return batch.take(range_, "f", 101);
    };
    EXPECT_EQ(with(good), kDefaultFirst + 5);
    EXPECT_FALSE(with(good)) << "the same batch again: its one number is taken";
    tmp_.write("nss-verified.lock", "");
    EXPECT_FALSE(with(good.substr(0, good.size() - 4))) << "truncated: no end line";
    EXPECT_FALSE(with(good + "7\n")) << "something after the end line";
    EXPECT_FALSE(with(head + "0\nend\n")) << "outside the range";
    EXPECT_FALSE(with(head + std::to_string(kDefaultFirst + 5) + "x\nend\n"));
    EXPECT_FALSE(with("fingerprint f\nchecked_at 100\nnonce 0123456789abcdef\nend\n")) << "no header";
    tmp_.write("nss-verified.lock", "0123456789abcdef garbage\n");
    EXPECT_FALSE(with(good)) << "a count that does not parse ends the batch";
    EXPECT_EQ(with(head + std::to_string(kDefaultFirst + 5) + "\nend\n"), std::nullopt);
    tmp_.write("nss-verified.lock", "fedcba9876543210 0000000001\n");
    EXPECT_EQ(with(good), kDefaultFirst + 5) << "another batch's count starts this one at 0";
}

TEST(NssRandomIds, DistinctAndInRange) {
    const IdRange small{kDefaultFirst, 4};
    const auto ids = random_ids(small, 64);
    EXPECT_LE(ids.size(), 4u);
    EXPECT_EQ(std::set<uid_t>(ids.begin(), ids.end()).size(), ids.size());
    for (uid_t id : ids) EXPECT_LT(id - small.first, small.count);
}

// The lease takes its number from a usable batch without asking NSS, and a Background
// lease that asked leaves a new batch behind.
TEST(IdLeaseBatch, ABackgroundCheckLeavesABatchTheNextLeaseUses) {
    if (::geteuid() != 0) GTEST_SKIP() << "the lease directory must be root's";
    if (!nss_fingerprint()) GTEST_SKIP() << "this host's NSS has a non-local source: no batches";
    test::TempDir tmp;
    const std::string dir = tmp.path() + "/ids";
    const IdRange range{kDefaultFirst + 200, 64};
    {
        HostIdLease first = lease_host_ids(range, NssCheck::Background, dir);
        first.confirm_unknown_to_nss();
    }  // waits for the batch
    const std::string batch_file = dir + "/" + VerifiedIds::kBatchFile;
    ASSERT_EQ(::access(batch_file.c_str(), F_OK), 0) << "no batch stored";
    const std::string batch_text = sys::read_file(batch_file);
    const std::string count_file = dir + "/nss-verified.lock";
    const std::string count_before = sys::read_file(count_file);
    HostIdLease second = lease_host_ids(range, NssCheck::Background, dir);
    EXPECT_NO_THROW(second.confirm_unknown_to_nss());
    EXPECT_NE(sys::read_file(count_file), count_before) << "the number did not come out of the batch";
    EXPECT_NE(batch_text.find("\n" + std::to_string(second.uid()) + "\n"), std::string::npos);
    EXPECT_FALSE(id_known_to_nss(second.uid()));
}

}  // namespace
}  // namespace aj::helper
