// `list`: the containers under --root, as runc lists them (docs/oci.md, "list").
//
// list [--format table|json] [--quiet]: each container's state (Container::state_json(),
// the status derived from its live processes), sorted by id. table: runc's columns ID PID
// STATUS BUNDLE CREATED OWNER, aligned as its tabwriter aligns them; json: an array of
// {ociVersion, id, pid, status, bundle, rootfs, created, annotations (when any), owner} in
// runc's key order, `null` when there is none (runc encodes an empty list so); --quiet:
// the ids, one a line. OWNER is the name of the uid that created the container ("#UID"
// when it has none), as runc prints it. A missing --root lists nothing and is not made; a
// directory still being created (no state yet) is left out.
#pragma once

#include <string>

#include "oci/commands.hpp"

namespace aj::oci {

int cmd_list(const Globals& g, const std::string& format, bool quiet);

}  // namespace aj::oci
