#include "oci/container_ids.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <utility>

#include "helper/userns.hpp"
#include "policy/error.hpp"

namespace aj::oci {

namespace {

std::string range_text(const helper::IdMapRange& r) {
    return std::to_string(r.inside) + " " + std::to_string(r.outside) + " " + std::to_string(r.count);
}

// A root caller's config ranges: never host id 0 nor the lease ranges (refused). A range
// holding a host account's or group's id is the engine's explicit choice (podman's
// --uidmap onto a developer's uid, as runc allows): mapped, with a warning saying what it
// shares with that account.
void check_config_ranges(const std::vector<helper::IdMapRange>& ranges, const std::string& field,
                         const IdContext& context, std::vector<std::string>& warnings) {
    for (const helper::IdMapRange& r : ranges) {
        const std::string where = field + " " + range_text(r) + ": ";
        if (r.outside == 0) throw Error("config.json: " + where + "maps host id 0 (the host's root) into the container");
        if (helper::overlaps_reserved(context.reserved, r.outside, r.count))
            throw Error("config.json: " + where + "overlaps the host ids aurora-jail leases to sandboxes (" +
                        std::string(helper::kIdsConf) + ")");
        if (!context.known) {
            warnings.push_back(where + "not checked against the host's accounts (NSS has a source other than local "
                                       "files): the config's author vouches that no host account has these ids");
            continue;
        }
        const auto& known = *context.known;
        if (!helper::any_known(known, r.outside, r.count)) continue;
        const auto it = std::lower_bound(known.begin(), known.end(), r.outside);
        warnings.push_back(where + "holds host id " + std::to_string(*it) +
                           ", a user or group of the host (NSS): the container's processes and files with it "
                           "are that account's on the host (it may signal and trace them; the container reaches "
                           "its files wherever they are mounted in), as the config asks");
    }
}

void require_mapped(const std::vector<gid_t>& gids, const std::vector<helper::IdMapRange>& map,
                    const std::string& what) {
    for (const gid_t g : gids)
        if (!helper::map_to_host(map, g))
            throw Error("config.json: process.user.additionalGids: gid " + std::to_string(g) +
                        " is not mapped in the container's user namespace (" + what + ")");
}

std::string joined(const std::vector<gid_t>& gids) {
    std::string text;
    for (const gid_t g : gids) text += (text.empty() ? "" : ",") + std::to_string(g);
    return text;
}

}  // namespace

IdContext current_id_context() {
    IdContext context;
    context.host_root = ::geteuid() == 0 && helper::in_initial_user_namespace();
    if (!context.host_root) return context;
    context.reserved = helper::load_id_range();
    context.known = helper::ids_known_to_nss();
    return context;
}

helper::IdMaps block_maps(uid_t first) {
    return helper::IdMaps{{{0, first, helper::kBlockSize}}, {{0, first, helper::kBlockSize}}};
}

IdMapping choose_id_mapping(ContainerPlan& plan, const IdContext& context) {
    if (!context.host_root) {
        if (!plan.uid_mappings.empty())
            plan.warnings.push_back("linux.uidMappings/gidMappings: only the process's uid " +
                                    std::to_string(plan.process.uid) + " and gid " + std::to_string(plan.process.gid) +
                                    " are mapped, onto the caller's own ids (an ordinary caller has no other host "
                                    "ids to map)");
        if (!plan.additional_gids.empty())
            plan.warnings.push_back("process.user.additionalGids " + joined(plan.additional_gids) +
                                    ": not set (the container's user namespace maps only gid " +
                                    std::to_string(plan.process.gid) + " and denies setgroups)");
        return IdMapping::OneId;
    }
    if (!plan.uid_mappings.empty()) {
        check_config_ranges(plan.uid_mappings, "linux.uidMappings", context, plan.warnings);
        check_config_ranges(plan.gid_mappings, "linux.gidMappings", context, plan.warnings);
        require_mapped(plan.additional_gids, plan.gid_mappings, "linux.gidMappings");
        return IdMapping::Config;
    }
    if (plan.process.uid < helper::kBlockSize && plan.process.gid < helper::kBlockSize) {
        require_mapped(plan.additional_gids, block_maps(1).gid, "ids 0 to 65535");
        return IdMapping::Block;
    }
    if (!plan.additional_gids.empty())
        plan.warnings.push_back("process.user.additionalGids " + joined(plan.additional_gids) +
                                ": not set (a process uid or gid above 65535 gets one leased host id and no "
                                "other group)");
    return IdMapping::OneId;
}

ContainerIds lease_container_ids(const ContainerPlan& plan, IdMapping mapping, const IdContext& context,
                                 std::vector<std::string>& warnings) {
    std::optional<helper::HostIdBlockLease> block;
    std::optional<helper::IdMaps> maps;
    if (mapping == IdMapping::Config) {
        maps = helper::IdMaps{plan.uid_mappings, plan.gid_mappings};
    } else if (mapping == IdMapping::Block) {
        block = helper::lease_block_if_root(context.reserved, context.known);
        if (block) {
            maps = block_maps(block->first());
        } else if (!plan.additional_gids.empty()) {
            warnings.push_back("process.user.additionalGids " + joined(plan.additional_gids) +
                               ": not set (NSS cannot list every host account here, so the container gets one "
                               "leased host id instead of a block)");
        }
    }
    if (maps) {
        const helper::HostIds host{helper::map_to_host(maps->uid, plan.process.uid).value(),
                                   helper::map_to_host(maps->gid, plan.process.gid).value()};
        return ContainerIds{std::nullopt, std::move(block), std::move(maps), host, plan.additional_gids};
    }
    std::optional<helper::HostIdLease> lease = helper::lease_if_root(helper::NssCheck::Background);
    const helper::HostIds host = helper::sandbox_host_ids(lease);
    return ContainerIds{std::move(lease), std::nullopt, std::nullopt, host, {}};
}

std::optional<std::uint32_t> id_option_value(const std::string& option) {
    const std::size_t eq = option.find('=');
    if (eq == std::string::npos || eq + 1 == option.size()) return std::nullopt;
    std::uint32_t id = 0;
    const char* end = option.data() + option.size();
    const auto [p, ec] = std::from_chars(option.data() + eq + 1, end, id);
    if (ec != std::errc() || p != end) return std::nullopt;
    return id;
}

std::vector<std::string> drop_unmapped_id_options(std::vector<helper::FilesystemMount>& mounts, const ContainerIds& ids,
                                                  uid_t uid, gid_t gid) {
    std::vector<std::string> warnings;
    const auto mapped = [&](bool is_uid, std::uint32_t id) {
        if (ids.maps) return helper::map_to_host(is_uid ? ids.maps->uid : ids.maps->gid, id).has_value();
        return id == (is_uid ? uid : gid);
    };
    for (helper::FilesystemMount& m : mounts) {
        std::erase_if(m.options, [&](const std::string& o) {
            const bool is_uid = o.starts_with("uid=");
            if (!is_uid && !o.starts_with("gid=")) return false;
            const std::optional<std::uint32_t> id = id_option_value(o);
            if (id && mapped(is_uid, *id)) return false;
            warnings.push_back("mounts " + m.target + ": option " + o + " dropped (the container's user namespace " +
                               (ids.maps ? std::string("does not map it")
                                         : "maps only uid " + std::to_string(uid) + " and gid " + std::to_string(gid)) +
                               ")");
            return true;
        });
    }
    return warnings;
}

}  // namespace aj::oci
