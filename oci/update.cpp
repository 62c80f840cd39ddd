// aurora-runc update (oci/update.hpp).
#include "oci/update.hpp"

#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <optional>

#include "helper/cgroup.hpp"
#include "helper/cgroup_discovery.hpp"
#include "oci/cgroup_resources.hpp"
#include "oci/container_cgroup.hpp"
#include "oci/container_restrictions.hpp"
#include "oci/container_state.hpp"
#include "policy/atomic_write.hpp"
#include "policy/error.hpp"
#include "policy/json_text.hpp"
#include "policy/sys.hpp"

namespace aj::oci {

using nlohmann::json;

namespace {

[[noreturn]] void bad_flag(const std::string& name, const std::string& value, const std::string& why) {
    throw Error("invalid value \"" + value + "\" for flag --" + name + ": " + why);
}

// A decimal integer, optionally negative, that fits in 64 bits.
std::int64_t integer_flag(const std::string& name, const std::string& value) {
    const std::size_t digits = value.starts_with("-") ? 1 : 0;
    if (value.size() == digits || value.find_first_not_of("0123456789", digits) != std::string::npos)
        bad_flag(name, value, "not an integer");
    errno = 0;
    const long long n = std::strtoll(value.c_str(), nullptr, 10);
    if (errno == ERANGE) bad_flag(name, value, "out of range");
    return n;
}

// Bytes as runc's memory flags take them: -1 (no limit), or a number (a fraction too) with
// an optional k, m, g, t or p (powers of 1024), optionally followed by i and b ("512m",
// "1.5g", "64MiB", "100kb").
std::int64_t memory_flag(const std::string& name, const std::string& value) {
    if (value == "-1") return -1;
    std::size_t i = 0;
    while (i < value.size() && (std::isdigit(static_cast<unsigned char>(value[i])) || value[i] == '.')) ++i;
    const std::string number = value.substr(0, i);
    const std::size_t dot = number.find('.');
    if (number.empty() || dot == 0 || dot + 1 == number.size() || dot != number.rfind('.'))
        bad_flag(name, value, "not a size (bytes, or a number with k, m, g, t or p)");
    std::string unit;
    for (char c : value.substr(i)) unit += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (unit.starts_with(" ")) unit.erase(0, 1);
    if (unit.ends_with("b")) unit.pop_back();
    if (unit.size() == 2 && unit.ends_with("i")) unit.pop_back();
    const std::string units = "kmgtp";
    if (unit.size() > 1 || (unit.size() == 1 && units.find(unit[0]) == std::string::npos))
        bad_flag(name, value, "unknown unit (k, m, g, t or p)");
    const std::size_t power = unit.empty() ? 0 : units.find(unit[0]) + 1;
    // Whole bytes exactly; a fraction (of a unit) to the byte below.
    const std::string whole = number.substr(0, dot);
    const std::string fraction = dot == std::string::npos ? "" : number.substr(dot + 1);
    if (whole.size() > 19) bad_flag(name, value, "out of range");
    const unsigned __int128 scale = static_cast<unsigned __int128>(1) << (10 * power);
    unsigned __int128 bytes = static_cast<unsigned __int128>(std::stoull(whole)) * scale;
    unsigned __int128 denominator = 1;
    unsigned __int128 numerator = 0;
    for (char c : fraction.substr(0, 18)) {
        numerator = numerator * 10 + static_cast<unsigned>(c - '0');
        denominator *= 10;
    }
    bytes += numerator * scale / denominator;
    if (bytes > static_cast<unsigned __int128>(INT64_MAX)) bad_flag(name, value, "out of range");
    return static_cast<std::int64_t>(bytes);
}

std::string read_resources_text(const std::string& file) {
    if (file == "-") return sys::read_all(STDIN_FILENO, 1 << 20, "reading --resources from stdin");
    return sys::read_file(file, 1 << 20);
}

// The sandbox's own cgroup directories (the launch library's aurora-jail-MONITOR-*, below
// the container's cgroup), in each hierarchy PID 1 is in: read from PID 1's
// /proc/PID/cgroup, cut after the deepest component the monitor named (a systemd scope
// the library asked for on a v2 host, aurora-jail-MONITOR-*.scope, lies above it).
std::vector<std::string> sandbox_cgroup_dirs(const RecordedState& s) {
    const std::string cgroups = sys::read_file("/proc/" + std::to_string(s.pid) + "/cgroup", 1 << 16);
    const std::string marker = "/" + std::string(helper::kCgroupPrefix) + std::to_string(s.monitor) + "-";
    std::vector<std::string> dirs;
    for (const helper::CgroupHierarchy& h :
         helper::parse_cgroup_hierarchies(cgroups, sys::read_file("/proc/self/mountinfo", 1 << 22))) {
        const std::size_t at = h.own_dir.rfind(marker);
        if (at == std::string::npos) continue;
        dirs.push_back(h.own_dir.substr(0, h.own_dir.find('/', at + 1)));
    }
    // Still the recorded process: a pid reused meanwhile would have named another's cgroup.
    if (!Container::same_live_process(s.pid, s.pid_start)) throw Error("container not running");
    if (dirs.empty())
        throw Error("container " + s.id + ": its sandbox's own cgroup (" + std::string(helper::kCgroupPrefix) +
                    std::to_string(s.monitor) + "-*) was not found in /proc/" + std::to_string(s.pid) + "/cgroup");
    return dirs;
}

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
    return out.empty() ? "nothing" : out;
}

}  // namespace

const std::vector<std::string>& update_flag_names() {
    static const std::vector<std::string> names = {
        "resources",     "r",          "memory",         "memory-swap",   "memory-reservation", "kernel-memory",
        "kernel-memory-tcp", "cpu-share", "cpu-shares",  "cpu-quota",     "cpu-period",         "cpu-rt-period",
        "cpu-rt-runtime", "cpu-idle",  "cpuset-cpus",    "cpuset-mems",   "pids-limit",         "blkio-weight",
        "l3-cache-schema", "mem-bw-schema"};
    return names;
}

json resources_from_flags(const std::vector<std::pair<std::string, std::string>>& flags) {
    json r = json::object();
    for (const auto& [name, value] : flags) {
        if (name == "memory") r["memory"]["limit"] = memory_flag(name, value);
        else if (name == "memory-swap") r["memory"]["swap"] = memory_flag(name, value);
        else if (name == "memory-reservation") r["memory"]["reservation"] = memory_flag(name, value);
        else if (name == "kernel-memory") r["memory"]["kernel"] = memory_flag(name, value);
        else if (name == "kernel-memory-tcp") r["memory"]["kernelTCP"] = memory_flag(name, value);
        else if (name == "cpu-share" || name == "cpu-shares") r["cpu"]["shares"] = integer_flag(name, value);
        else if (name == "cpu-quota") r["cpu"]["quota"] = integer_flag(name, value);
        else if (name == "cpu-period") r["cpu"]["period"] = integer_flag(name, value);
        else if (name == "cpu-rt-period") r["cpu"]["realtimePeriod"] = integer_flag(name, value);
        else if (name == "cpu-rt-runtime") r["cpu"]["realtimeRuntime"] = integer_flag(name, value);
        else if (name == "cpu-idle") r["cpu"]["idle"] = integer_flag(name, value);
        else if (name == "cpuset-cpus") r["cpu"]["cpus"] = value;
        else if (name == "cpuset-mems") r["cpu"]["mems"] = value;
        else if (name == "pids-limit") r["pids"]["limit"] = integer_flag(name, value);
        else if (name == "blkio-weight") r["blockIO"]["weight"] = integer_flag(name, value);
        else if (name == "l3-cache-schema" || name == "mem-bw-schema")
            throw Error("--" + name + ": Intel RDT is not supported by aurora-runc");
        else if (name != "resources" && name != "r")
            throw Error("flag provided but not defined: -" + name);
    }
    return r;
}

int cmd_update(const Globals& g, const UpdateOptions& o) {
    sys::UniqueFd root = open_state_root(g.root);
    const Container container(root.get(), o.id);
    const RecordedState& s = container.recorded();
    // As runc's: a stopped container has no cgroup left to change.
    if (container.status() == Status::Stopped) throw Error("container not running");
    const json resources = o.resources_file.empty()
                               ? resources_from_flags(o.flags)
                               : policy::read_json_text(read_resources_text(o.resources_file), "--resources");
    if (!resources.is_object()) throw Error("--resources: not a JSON object (runtime-spec LinuxResources)");

    std::vector<std::string> warnings;
    // Every value is checked, as create checks the config's, before anything is written.
    std::vector<ControlWrite> writes = resource_writes(resources, warnings, UnknownResource::Refuse);
    std::optional<ContainerCgroups> cgroups = container.cgroups();
    if (cgroups && cgroups->freezer_only) cgroups.reset();  // pause's cgroup, no container cgroup
    if (!cgroups) {
        // No container cgroup: only the sandbox's own limits exist to change (as at create).
        warn_not_applied_without_cgroups_path(resources, warnings);
    } else if (std::erase_if(writes, [](const ControlWrite& w) { return w.controller == "devices"; }) > 0) {
        // Device rules are create's, as runc's update leaves them: applied again without
        // the sandbox's own allows after them they would shut the container out of /dev/null.
        warnings.push_back("linux.resources.devices: not changed by update (the rules create wrote stay)");
    }

    ContainerRestrictions restrictions = read_container_restrictions(container.dir_fd(), o.id);
    policy::Policy updated = restrictions.policy;
    apply_sandbox_limits(resources, restrictions.limit_ceiling, updated.limits, warnings);
    std::vector<std::string> applied;
    try {
        if (cgroups) write_cgroup_resources(cgroups->leaves, writes, warnings, applied);
        std::optional<std::vector<std::string>> sandbox_dirs;
        // One limit at a time, each recorded once applied (exec derives a new process's
        // limits from the record, the next update starts from it): a failure leaves the
        // record true to the cgroup.
        for (const auto& [controller, limit] :
             {std::pair{"memory", &policy::Limits::memory_mb}, std::pair{"pids", &policy::Limits::pids}}) {
            if (updated.limits.*limit == restrictions.policy.limits.*limit) continue;
            std::vector<ControlWrite> sandbox_writes;
            for (const ControlWrite& w : sandbox_limit_writes(updated))
                if (w.controller == controller) sandbox_writes.push_back(w);
            if (!sandbox_dirs) sandbox_dirs = sandbox_cgroup_dirs(s);
            write_cgroup_resources(*sandbox_dirs, sandbox_writes, warnings, applied);
            restrictions.policy.limits.*limit = updated.limits.*limit;
            sys::write_file_atomic(container.dir_fd(), kRestrictionsFile, to_json(restrictions).dump());
        }
    } catch (const Error& e) {
        for (const auto& w : warnings) g.log->warning("container " + o.id + ": " + w);
        throw Error("updating container " + o.id + ": " + e.what() + "; applied before it: " + joined(applied) +
                    "; nothing after it was applied");
    }
    for (const auto& w : warnings) g.log->warning("container " + o.id + ": " + w);
    return 0;
}

}  // namespace aj::oci
