// Executes a MountPlan inside the new mount namespace and makes its tmpfs the root.
#pragma once

#include "helper/mount_plan.hpp"

namespace aj::helper {

// Child side, in the new user+mount namespaces, with namespace capabilities. Makes every
// existing mount private, captures each bind source as a detached clone while the host
// tree is still in view, assembles the plan on a tmpfs, pivot_roots into it and detaches
// the old root. On return the cwd is "/" of the sandbox.
void build_root(const MountPlan& plan);

}  // namespace aj::helper
