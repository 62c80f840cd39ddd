// Who a container is on the host: which ids its user namespace maps, and which of the
// config's supplementary groups it gets (docs/oci.md, "Identity and capabilities").
//
// - An ordinary caller (or root of a user namespace other than the initial one): one uid
//   and one gid, its own, as for `aurora-jail run` (it has no subordinate ids here);
//   linux.uidMappings/gidMappings are narrowed to the process's ids and additionalGids
//   are not set, each with a warning.
// - A root caller with linux.uidMappings/gidMappings: exactly those (runc does), unless a
//   range holds host id 0 or an id of aurora-jail's lease ranges (helper/id_pool.hpp):
//   refused by name. A range holding an id NSS knows (a host account or group) is the
//   engine's explicit choice (podman's --uidmap onto a developer's uid): mapped, with a
//   warning naming the id.
// - A root caller without them: container ids 0..65535 onto a leased block of host ids
//   (helper::lease_host_id_block), when the process's ids are below 65536. Otherwise (or
//   where NSS cannot be listed completely) the one leased id, as before.
// With several ids mapped, every additionalGid must be mapped (else create fails naming
// it) and they are set; setgroups stays allowed: a block's ids belong to no host account,
// and a config's ranges give the container their gids anyway (container root may setgid
// to any mapped gid, setgroups or not).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "helper/id_pool.hpp"
#include "helper/launch.hpp"
#include "oci/config.hpp"

namespace aj::oci {

enum class IdMapping {
    OneId,   // one uid, one gid: the caller's own or a leased one
    Block,   // 0..65535 onto a leased block
    Config,  // the config's ranges
};

// What `create` knows before it forks: whether it is the host's root, the lease ranges in
// force, and every id NSS lists (nullopt where that list may be incomplete).
struct IdContext {
    bool host_root = false;
    helper::IdRange reserved;
    std::optional<std::vector<std::uint32_t>> known;
};

// The context of this process (reads ids.conf and walks NSS only for a host root caller).
IdContext current_id_context();

// Decides the mapping for `plan` and checks it (config ranges, additional gids); throws
// aj::Error naming the field; appends warnings to plan.warnings.
IdMapping choose_id_mapping(ContainerPlan& plan, const IdContext& context);

// A block's maps: container ids 0..65535 onto kBlockSize host ids from `first`.
helper::IdMaps block_maps(uid_t first);

// What the monitor passes to launch() and holds until the container is over.
struct ContainerIds {
    std::optional<helper::HostIdLease> lease;       // OneId, host root caller
    std::optional<helper::HostIdBlockLease> block;  // Block
    std::optional<helper::IdMaps> maps;             // Block, Config
    helper::HostIds host;                           // the process's host uid and gid
    std::vector<gid_t> additional_gids;             // set inside (with maps only)
};

// In the monitor: leases what `mapping` needs (a block checked against the NSS list
// `create` took for `context`, milliseconds before). A Block that cannot be leased here
// (NSS cannot be listed completely) falls back to OneId, with `warnings` saying so.
ContainerIds lease_container_ids(const ContainerPlan& plan, IdMapping mapping, const IdContext& context,
                                 std::vector<std::string>& warnings);

// The id a mount's "uid=N" or "gid=N" option names; nullopt when N is not a decimal id.
std::optional<std::uint32_t> id_option_value(const std::string& option);

// A config mount's uid=/gid= option (devpts's gid=5, a tmpfs's uid=) is interpreted in
// the container's user namespace, which refuses the mount when it maps no such id. Once
// the ids are leased: drops each option naming an id `ids` does not map (with only one
// id mapped, any but the process's `uid`/`gid`), returning a warning for each.
std::vector<std::string> drop_unmapped_id_options(std::vector<helper::FilesystemMount>& mounts, const ContainerIds& ids,
                                                  uid_t uid, gid_t gid);

}  // namespace aj::oci
