// Which ids a container maps (oci/container_ids.hpp): a root caller's config ranges are
// honoured unless they hold host id 0 or a lease range's id (one holding an id NSS knows
// with a warning naming it); without ranges a block; an ordinary caller one id;
// additional gids must be mapped.
#include <grp.h>
#include <pwd.h>

#include <gtest/gtest.h>

#include "helper/id_pool.hpp"
#include "oci/container_ids.hpp"
#include "policy/error.hpp"

namespace aj::oci {
namespace {

ContainerPlan with_ranges(std::vector<helper::IdMapRange> uid, std::vector<helper::IdMapRange> gid) {
    ContainerPlan plan;
    plan.process.uid = 0;
    plan.process.gid = 0;
    plan.uid_mappings = std::move(uid);
    plan.gid_mappings = std::move(gid);
    return plan;
}

IdContext root_context(std::vector<std::uint32_t> known = {0, 65534}) {
    return IdContext{true, helper::IdRange{}, std::move(known)};
}

std::string refusal(ContainerPlan& plan, const IdContext& context) {
    try {
        choose_id_mapping(plan, context);
    } catch (const Error& e) {
        return e.what();
    }
    return "(accepted)";
}

std::string refusal(ContainerPlan&& plan, const IdContext& context) { return refusal(plan, context); }

TEST(ContainerIds, ARootCallersRangesAreHonouredWhenNoHostAccountIsInThem) {
    ContainerPlan plan = with_ranges({{0, 100000, 2000}}, {{0, 100000, 3000}});
    EXPECT_EQ(choose_id_mapping(plan, root_context()), IdMapping::Config);
    EXPECT_TRUE(plan.warnings.empty());
}

TEST(ContainerIds, RangesHoldingHostRootOrALeaseRangeAreRefusedByName) {
    // Host id 0.
    EXPECT_NE(refusal(with_ranges({{0, 0, 10}}, {{0, 100000, 10}}), root_context())
                  .find("linux.uidMappings 0 0 10: maps host id 0"),
              std::string::npos);
    // The single-id lease range and the block range.
    EXPECT_NE(refusal(with_ranges({{0, 100000, 10}}, {{0, helper::kDefaultFirst + 5, 10}}), root_context())
                  .find("linux.gidMappings 0 1879048197 10: overlaps the host ids aurora-jail leases"),
              std::string::npos);
    EXPECT_NE(refusal(with_ranges({{0, helper::kDefaultBlockFirst - 5, 10}}, {{0, 100000, 10}}), root_context())
                  .find("overlaps the host ids aurora-jail leases"),
              std::string::npos);
}

// A range holding a host account's id is the engine's explicit choice (podman --uidmap
// onto a developer's uid, as runc maps it): mapped, with a warning naming the id.
TEST(ContainerIds, RangesHoldingAHostAccountAreMappedWithAWarning) {
    ContainerPlan plan = with_ranges({{0, 1000, 2000}}, {{0, 100000, 10}});
    EXPECT_EQ(choose_id_mapping(plan, root_context({0, 1500, 65534})), IdMapping::Config);
    ASSERT_EQ(plan.warnings.size(), 1u);
    EXPECT_NE(plan.warnings[0].find("linux.uidMappings 0 1000 2000: holds host id 1500, a user or group of the host"),
              std::string::npos)
        << plan.warnings[0];
    // Nobody, as this host's NSS really lists it.
    const std::optional<std::vector<std::uint32_t>> known = helper::ids_known_to_nss();
    if (!known) GTEST_SKIP() << "NSS has a non-local source here: its accounts cannot all be listed";
    const passwd* nobody = ::getpwnam("nobody");
    ASSERT_NE(nobody, nullptr);
    ContainerPlan with_nobody = with_ranges({{0, nobody->pw_uid, 1}}, {{0, 100000, 10}});
    EXPECT_EQ(choose_id_mapping(with_nobody, root_context(*known)), IdMapping::Config);
    ASSERT_EQ(with_nobody.warnings.size(), 1u);
    EXPECT_NE(with_nobody.warnings[0].find("holds host id " + std::to_string(nobody->pw_uid)), std::string::npos);
    // Without a complete list nothing can be checked: said so.
    ContainerPlan unchecked = with_ranges({{0, 100000, 10}}, {{0, 100000, 10}});
    EXPECT_EQ(choose_id_mapping(unchecked, IdContext{true, {}, std::nullopt}), IdMapping::Config);
    ASSERT_EQ(unchecked.warnings.size(), 2u);
    EXPECT_NE(unchecked.warnings[0].find("not checked against the host's accounts"), std::string::npos);
}

TEST(ContainerIds, AdditionalGidsMustBeMappedWhenSeveralIdsAre) {
    ContainerPlan plan = with_ranges({{0, 100000, 10}}, {{0, 100000, 10}});
    plan.additional_gids = {5, 20};
    EXPECT_NE(refusal(plan, root_context()).find("process.user.additionalGids: gid 20 is not mapped"),
              std::string::npos);
    plan.additional_gids = {5, 9};
    EXPECT_EQ(choose_id_mapping(plan, root_context()), IdMapping::Config);
    ContainerPlan block;
    block.process.uid = 10;
    block.process.gid = 10;
    block.additional_gids = {5, 65535};
    EXPECT_EQ(choose_id_mapping(block, root_context()), IdMapping::Block);
    block.additional_gids = {65536};
    EXPECT_NE(refusal(block, root_context()).find("gid 65536 is not mapped"), std::string::npos);
}

TEST(ContainerIds, WithoutRangesARootCallerGetsABlockOrOneIdAboveIt) {
    ContainerPlan plan;
    plan.process.uid = 65535;
    plan.process.gid = 0;
    EXPECT_EQ(choose_id_mapping(plan, root_context()), IdMapping::Block);
    plan.process.uid = 70000;
    plan.additional_gids = {5};
    EXPECT_EQ(choose_id_mapping(plan, root_context()), IdMapping::OneId);
    ASSERT_EQ(plan.warnings.size(), 1u);
    EXPECT_NE(plan.warnings[0].find("additionalGids 5: not set"), std::string::npos) << plan.warnings[0];
    const helper::IdMaps maps = block_maps(helper::kDefaultBlockFirst);
    EXPECT_EQ(maps.uid, (std::vector<helper::IdMapRange>{{0, helper::kDefaultBlockFirst, 65536}}));
    EXPECT_EQ(maps.gid, maps.uid);
}

TEST(ContainerIds, AnOrdinaryCallerKeepsOneIdWhatever) {
    ContainerPlan plan = with_ranges({{0, 100000, 10}}, {{0, 100000, 10}});
    plan.additional_gids = {5};
    EXPECT_EQ(choose_id_mapping(plan, IdContext{}), IdMapping::OneId);
    ASSERT_EQ(plan.warnings.size(), 2u);
    EXPECT_NE(plan.warnings[0].find("only the process's uid 0 and gid 0 are mapped"), std::string::npos);
    EXPECT_NE(plan.warnings[1].find("additionalGids 5: not set"), std::string::npos);
}

// A mount's uid=/gid= option stays when the container maps that id (a block maps 0..65535,
// a config its ranges), and is dropped with a warning otherwise: the kernel would refuse
// the whole mount.
TEST(ContainerIds, MountIdOptionsStayOnlyWhenTheContainerMapsTheirIds) {
    const auto devpts = [] {
        helper::FilesystemMount m;
        m.type = "devpts";
        m.target = "/dev/pts";
        m.options = {"newinstance", "gid=5", "mode=0620", "uid=70000"};
        return std::vector<helper::FilesystemMount>{m};
    };
    ContainerIds block{std::nullopt, std::nullopt, block_maps(helper::kDefaultBlockFirst), {}, {}};
    std::vector<helper::FilesystemMount> mounts = devpts();
    std::vector<std::string> warnings = drop_unmapped_id_options(mounts, block, 0, 0);
    EXPECT_EQ(mounts[0].options, (std::vector<std::string>{"newinstance", "gid=5", "mode=0620"}));
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("mounts /dev/pts: option uid=70000 dropped"), std::string::npos) << warnings[0];

    ContainerIds one{};
    mounts = devpts();
    warnings = drop_unmapped_id_options(mounts, one, 1000, 5);
    EXPECT_EQ(mounts[0].options, (std::vector<std::string>{"newinstance", "gid=5", "mode=0620"}));
    mounts = devpts();
    warnings = drop_unmapped_id_options(mounts, one, 0, 0);
    EXPECT_EQ(mounts[0].options, (std::vector<std::string>{"newinstance", "mode=0620"}));
    ASSERT_EQ(warnings.size(), 2u);
    EXPECT_NE(warnings[0].find("option gid=5 dropped (the container's user namespace maps only uid 0 and gid 0)"),
              std::string::npos)
        << warnings[0];

    EXPECT_EQ(id_option_value("gid=5"), 5u);
    EXPECT_EQ(id_option_value("uid=4294967295"), 4294967295u);
    for (const char* bad : {"gid=", "gid=x", "uid=5x", "uid=-1", "uid=4294967296", "gid= 5"})
        EXPECT_EQ(id_option_value(bad), std::nullopt) << bad;
}

}  // namespace
}  // namespace aj::oci
