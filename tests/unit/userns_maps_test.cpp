// Several-id user namespace maps in the launch library (helper/userns.hpp,
// LaunchRequest::id_maps): only a host root caller may give them, never with host id 0,
// always mapping the process's ids onto its host ids and every additional gid.
#include <unistd.h>

#include <gtest/gtest.h>

#include "helper/userns.hpp"
#include "policy/error.hpp"

namespace aj::helper {
namespace {

constexpr std::uint32_t kHost = 0x70010000;

IdMaps block() { return IdMaps{{{0, kHost, 65536}}, {{0, kHost, 65536}}}; }

ProcessIdentity process(uid_t uid, gid_t gid, std::vector<gid_t> groups = {}) {
    ProcessIdentity p;
    p.uid = uid;
    p.gid = gid;
    p.additional_gids = std::move(groups);
    return p;
}

TEST(UsernsMaps, MapToHostFollowsTheRanges) {
    const std::vector<IdMapRange> ranges{{0, 1000, 10}, {100, 5000, 1}};
    EXPECT_EQ(map_to_host(ranges, 0), 1000u);
    EXPECT_EQ(map_to_host(ranges, 9), 1009u);
    EXPECT_EQ(map_to_host(ranges, 10), std::nullopt);
    EXPECT_EQ(map_to_host(ranges, 100), 5000u);
    EXPECT_EQ(map_to_host(ranges, 101), std::nullopt);
}

TEST(UsernsMaps, ARootCallersMapsBecomeTheIdentity) {
    if (::geteuid() != 0 || !in_initial_user_namespace()) GTEST_SKIP() << "needs root of the initial user namespace";
    const Identity id = choose_identity(HostIds{kHost + 10, kHost + 20}, process(10, 20, {5}), block());
    EXPECT_EQ(id.outside_uid, kHost + 10);
    EXPECT_EQ(id.outside_gid, kHost + 20);
    EXPECT_TRUE(id.leased);
    ASSERT_TRUE(id.maps.has_value());
    EXPECT_EQ(id.groups, std::vector<gid_t>{5});
}

TEST(UsernsMaps, MapsWithHostRootOrThatMissTheProcessOrItsGroupsAreRefused) {
    if (::geteuid() != 0 || !in_initial_user_namespace()) GTEST_SKIP() << "needs root of the initial user namespace";
    const IdMaps onto_root{{{0, 0, 10}}, {{0, kHost, 10}}};
    // Consistent otherwise (uid 5 is host uid 5): only host id 0 in the range refuses it.
    EXPECT_THROW(choose_identity(HostIds{5, kHost + 5}, process(5, 5), onto_root), Error);
    // The host ids the caller gives must be the process's under the maps.
    EXPECT_THROW(choose_identity(HostIds{kHost + 1, kHost}, process(0, 0), block()), Error);
    // Every additional gid mapped.
    EXPECT_THROW(choose_identity(HostIds{kHost, kHost}, process(0, 0, {70000}), block()), Error);
    // Additional gids need several-id maps: a one-id map denies setgroups.
    EXPECT_THROW(choose_identity(HostIds{kHost, kHost}, process(0, 0, {5})), Error);
}

}  // namespace
}  // namespace aj::helper
