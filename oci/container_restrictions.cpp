#include "oci/container_restrictions.hpp"

#include <fcntl.h>

#include "oci/container_state.hpp"
#include "oci/process_rlimits.hpp"
#include "policy/error.hpp"
#include "policy/json_text.hpp"
#include "policy/parse.hpp"
#include "policy/sys.hpp"

namespace aj::oci {

using nlohmann::json;

json to_json(const ContainerRestrictions& r) {
    return json{{"policy", policy::to_json(r.policy)},
                {"uid", r.uid},
                {"gid", r.gid},
                {"bounding", r.bounding},
                {"no_new_privs", r.no_new_privs},
                {"seccomp_profile", r.seccomp_profile},
                {"rlimits", rlimits_to_json(r.rlimits)},
                {"limit_ceiling",
                 {{"memory_mb", r.limit_ceiling.memory_mb ? json(*r.limit_ceiling.memory_mb) : json()},
                  {"pids", r.limit_ceiling.pids ? json(*r.limit_ceiling.pids) : json()}}}};
}

ContainerRestrictions container_restrictions_from_json(const json& j) {
    ContainerRestrictions r;
    try {
        r.policy = policy::parse_policy(j.at("policy").dump(), "the container's recorded policy");
        r.uid = j.at("uid").get<uid_t>();
        r.gid = j.at("gid").get<gid_t>();
        r.bounding = j.at("bounding").get<std::uint64_t>();
        r.no_new_privs = j.at("no_new_privs").get<bool>();
        // Absent from a record made before profiles were enforced: that container's own
        // process runs without one, and so does what is exec'd into it.
        r.seccomp_profile = j.value("seccomp_profile", json());
        if (j.contains("rlimits")) r.rlimits = parse_process_rlimits(j.at("rlimits"));
        r.limit_ceiling = {r.policy.limits.memory_mb, r.policy.limits.pids};
        if (j.contains("limit_ceiling")) {
            const json& c = j.at("limit_ceiling");
            auto value = [&](const char* key) {
                return c.at(key).is_null() ? std::nullopt : std::optional<std::uint64_t>(c.at(key).get<std::uint64_t>());
            };
            r.limit_ceiling = {value("memory_mb"), value("pids")};
        }
    } catch (const json::exception& e) {
        throw Error(std::string("the container's recorded restrictions: ") + e.what());
    } catch (const Error& e) {
        throw e.wrap("the container's recorded restrictions");
    }
    return r;
}

ContainerRestrictions read_container_restrictions(int dir_fd, const std::string& id) {
    sys::UniqueFd fd(::openat(dir_fd, kRestrictionsFile, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT)
            throw Error("container " + id + ": no recorded restrictions (created by an older aurora-runc)");
        throw_errno("opening the restrictions of container " + id);
    }
    return container_restrictions_from_json(policy::read_json_text(
        sys::read_all(fd.get(), 1 << 20, "reading the container's restrictions"), kRestrictionsFile));
}

}  // namespace aj::oci
