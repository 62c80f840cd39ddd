// Host id leases (helper/id_pool.hpp): the range file is checked, two leases never share
// a number, a full range is refused, and a released number can be leased again.
#include <unistd.h>

#include <algorithm>
#include <optional>

#include <gtest/gtest.h>

#include "helper/id_pool.hpp"
#include "tests/support/process.hpp"

namespace aj::helper {
namespace {

TEST(IdRange, ParsesAndDefaults) {
    IdRange r = parse_id_range("# comment\n first = 1879048192 \n\ncount=16\n", "ids.conf");
    EXPECT_EQ(r.first, 1879048192u);
    EXPECT_EQ(r.count, 16u);
    r = parse_id_range("", "ids.conf");
    EXPECT_EQ(r.first, kDefaultFirst);
    EXPECT_EQ(r.count, kDefaultCount);
    EXPECT_EQ(load_id_range("/nonexistent/ids.conf").first, kDefaultFirst);
}

TEST(IdRange, RefusesDangerousRanges) {
    for (const char* bad : {"first = 0\n", "first = 65000\ncount = 1000\n", "first = 2147483600\ncount = 100\n",
                            "count = 0\n", "first = x\n", "start = 5\n", "first 5\n", "first = -1\n"})
        EXPECT_THROW(parse_id_range(bad, "ids.conf"), Error) << bad;
    try {
        parse_id_range("first = 100000\nfrist = 3\n", "/etc/aurora-jail/ids.conf");
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("/etc/aurora-jail/ids.conf:2"), std::string::npos) << e.what();
    }
}

TEST(IdLease, TwoLeasesNeverShareAndAFullRangeIsRefused) {
    if (::geteuid() != 0) GTEST_SKIP() << "the lease directory must be root's";
    test::TempDir tmp;
    const std::string dir = tmp.path() + "/ids";
    const IdRange two{kDefaultFirst + 100, 2};
    HostIdLease a = lease_host_ids(two, NssCheck::Now, dir);
    HostIdLease b = lease_host_ids(two, NssCheck::Background, dir);
    EXPECT_NE(a.uid(), b.uid());
    EXPECT_EQ(a.gid(), a.uid());
    EXPECT_NO_THROW(b.confirm_unknown_to_nss());
    EXPECT_THROW(lease_host_ids(two, NssCheck::Now, dir), Error);
    const uid_t released = a.uid();
    { HostIdLease gone = std::move(a); }
    HostIdLease again = lease_host_ids(two, NssCheck::Now, dir);
    EXPECT_EQ(again.uid(), released);
}

TEST(IdLease, AnAccountIsNeverLeased) {
    if (::geteuid() != 0) GTEST_SKIP() << "the lease directory must be root's";
    test::TempDir tmp;
    // uid/gid 0 is root everywhere: the only number of this range is NSS's.
    EXPECT_TRUE(id_known_to_nss(0));
    const IdRange root_only{0, 1};  // parse_id_range would refuse it; the pool must too
    EXPECT_THROW(lease_host_ids(root_only, NssCheck::Now, tmp.path() + "/ids"), Error);
    HostIdLease background = lease_host_ids(root_only, NssCheck::Background, tmp.path() + "/ids2");
    EXPECT_THROW(background.confirm_unknown_to_nss(), HostIdsKnownToNss);
}

TEST(IdLease, RefusesALockDirectoryOthersCanWrite) {
    if (::geteuid() != 0) GTEST_SKIP() << "the lease directory must be root's";
    test::TempDir tmp;
    const std::string dir = tmp.path() + "/ids";
    ASSERT_EQ(::mkdir(dir.c_str(), 0777), 0);
    ASSERT_EQ(::chmod(dir.c_str(), 0777), 0);
    EXPECT_THROW(lease_host_ids(IdRange{}, NssCheck::Now, dir), Error);
}

TEST(IdRange, BlockRangeParsesDefaultsAndIsChecked) {
    IdRange r = parse_id_range("", "ids.conf");
    EXPECT_EQ(r.block_first, 0x70010000u);
    EXPECT_EQ(std::uint64_t{r.block_first} + std::uint64_t{r.block_count} * kBlockSize, 0x7FFE0000u);
    EXPECT_FALSE(overlaps_reserved(IdRange{}, 100000, 65536));
    EXPECT_TRUE(overlaps_reserved(IdRange{}, kDefaultFirst - 1, 2));  // the single ids
    EXPECT_TRUE(overlaps_reserved(IdRange{}, 0x7FFDFFFF, 1));         // the last block's
    EXPECT_FALSE(overlaps_reserved(IdRange{}, 0x7FFE0000, 1));        // systemd's own
    r = parse_id_range("block_first = 1610612736\nblock_count = 2\n", "ids.conf");
    EXPECT_EQ(r.block_first, 1610612736u);
    EXPECT_EQ(r.block_count, 2u);
    for (const char* bad : {"block_count = 0\n", "block_first = 0\n", "block_first = 2147418113\n",
                            "block_first = 1\nblock_count = 1\n", "blocks = 3\n"})
        EXPECT_THROW(parse_id_range(bad, "ids.conf"), Error) << bad;
}

TEST(IdBlock, NssListsItsAccountsAndAnyKnownFindsThem) {
    const std::optional<std::vector<std::uint32_t>> known = ids_known_to_nss();
    if (!known) GTEST_SKIP() << "NSS has a non-local source here: its accounts cannot all be listed";
    EXPECT_TRUE(std::is_sorted(known->begin(), known->end()));
    EXPECT_TRUE(any_known(*known, 0, 1));            // root
    EXPECT_TRUE(any_known(*known, 65534, 1));        // nobody / nogroup
    EXPECT_TRUE(any_known(*known, 60000, 10000));
    EXPECT_FALSE(any_known(*known, kDefaultBlockFirst, kBlockSize));
    EXPECT_FALSE(any_known({5, 10}, 6, 4));
    EXPECT_TRUE(any_known({5, 10}, 6, 5));
}

TEST(IdBlock, TwoLeasesGetDisjointBlocksAKnownBlockIsSkippedAndReleaseFreesIt) {
    if (::geteuid() != 0) GTEST_SKIP() << "the lease directory must be root's";
    test::TempDir tmp;
    const std::string dir = tmp.path() + "/ids";
    const IdRange three{kDefaultFirst, 1, kDefaultBlockFirst, 3};
    // The middle block holds an "account": never leased.
    const std::vector<std::uint32_t> known{kDefaultBlockFirst + kBlockSize + 7};
    std::optional<HostIdBlockLease> a(lease_host_id_block(three, known, dir));
    HostIdBlockLease b = lease_host_id_block(three, known, dir);
    EXPECT_NE(a->first(), b.first());
    for (const uid_t first : {a->first(), b.first()})
        EXPECT_TRUE(first == kDefaultBlockFirst || first == kDefaultBlockFirst + 2 * kBlockSize) << first;
    EXPECT_THROW(lease_host_id_block(three, known, dir), Error);
    const uid_t released = a->first();
    a.reset();
    EXPECT_EQ(lease_host_id_block(three, known, dir).first(), released);
}

}  // namespace
}  // namespace aj::helper
