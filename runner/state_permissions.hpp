// Bringing a state directory made by an older aurora-jail to today's permissions. Older
// versions left lock files (plugins/.in-use-ID: any local user could hold one shared
// forever and block stage/unstage), run records, reports and the heartbeat readable by
// everyone, and run directories open to every uid. Done once per state directory (a
// marker file records it), before anything else uses the directory.
#pragma once

#include <string>

namespace aj::runner {

class StateDir;

// Strips group and world bits from our regular files at the top, in plugins/ (not the
// staged packages) and in every run directory, and gives run directories their mode
// (restrict_run_dir). Files of other owners and symlinks are left alone.
void tighten_older_state(const StateDir& state);

}  // namespace aj::runner
