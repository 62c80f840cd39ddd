// A bundle's config.json (OCI runtime-spec) turned into what the launch library runs:
// a Policy, argv, cwd and binds. Every field is either mapped, refused with an error that
// names it, or accepted with a warning saying what happens instead (docs/oci.md, the
// mapping table); nothing is half-enforced in silence.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "helper/launch.hpp"
#include "policy/policy.hpp"

namespace aj::oci {

// The annotation naming a stored aurora-jail policy to start from.
inline constexpr const char* kPolicyAnnotation = "io.aurora-jail.policy";

struct ContainerPlan {
    policy::Policy policy;
    std::vector<std::string> argv;
    std::string cwd = "/";
    std::vector<helper::ExtraBind> binds;  // the rootfs's entries, then the config's bind mounts
    std::string rootfs;                    // absolute host path
    nlohmann::json annotations = nlohmann::json::object();
    std::vector<std::string> warnings;     // one line each, for the log
};

// The policy a container starts from without the annotation: the built-in hardened policy
// without host paths (the rootfs replaces them), wall-clock timeout, CPU-seconds cap or CPU
// bandwidth cap (a service runs for weeks, on what the engine gives it).
policy::Policy oci_default_policy();

// Reads BUNDLE/config.json (bundle: an absolute path) and maps it. `policy_dirs`: where a
// stored policy named by the annotation is looked up. Throws aj::Error naming the field.
ContainerPlan plan_container(const std::string& bundle, const std::vector<std::string>& policy_dirs);

// The same, from an already parsed config (unit tests).
ContainerPlan plan_container(const nlohmann::json& config, const std::string& bundle,
                             const std::vector<std::string>& policy_dirs);

}  // namespace aj::oci
