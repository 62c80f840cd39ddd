// An OCI config's linux.seccomp profile (runtime-spec config-linux.md, "Seccomp"),
// compiled with libseccomp into a program of its own. It is stacked on the policy's
// filter, never in its place: the container's process loads the policy's program, then
// this one, as its last step before execve, and the kernel runs both on every call (the
// stricter verdict wins). docs/oci.md, "Seccomp profiles".
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/policy.hpp"
#include "policy/seccomp_compile.hpp"

namespace aj::oci {

// Compiles the profile (the linux.seccomp object). A call name libseccomp does not know
// on this architecture is skipped (as runc does); an unknown action, operator,
// architecture, flag or field is refused, and so are SCMP_ACT_NOTIFY and listenerPath
// (no seccomp agent is supported): aj::Error "config.json: linux.seccomp...: why".
// Deterministic: exec compiles the recorded profile again and gets the same program.
policy::SeccompProgram compile_seccomp_profile(const nlohmann::json& profile);

// Refuses (aj::Error naming linux.seccomp) a policy whose own filter refuses seccomp(2):
// the profile, loaded after the policy's program, could not be installed.
void check_policy_admits_profile(const policy::Policy& policy);

// What `features` lists: the actions, operators, architectures and flags understood.
std::vector<std::string> seccomp_profile_actions();
std::vector<std::string> seccomp_profile_operators();
std::vector<std::string> seccomp_profile_archs();
std::vector<std::string> seccomp_profile_known_flags();
std::vector<std::string> seccomp_profile_supported_flags();

}  // namespace aj::oci
