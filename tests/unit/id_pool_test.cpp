// Host id leases (helper/id_pool.hpp): the range file is checked, two leases never share
// a number, a full range is refused, and a released number can be leased again.
#include <unistd.h>

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

}  // namespace
}  // namespace aj::helper
