// linux.cgroupsPath and linux.resources -> where and what (oci/cgroup_resources.hpp).
#include "oci/cgroup_resources.hpp"

#include <algorithm>
#include <cstdint>
#include <set>

#include "helper/cgroup.hpp"
#include "policy/error.hpp"
#include "policy/limits_table.hpp"

namespace aj::oci {

using nlohmann::json;

namespace {

// linux.resources' fields are named without a source: create's come from config.json
// (config.cpp says so), update's from --resources or its flags.
[[noreturn]] void refuse(const std::string& field, const std::string& why) {
    if (field.starts_with("linux.resources")) throw Error(field + ": " + why);
    throw Error("config.json: " + field + ": " + why);
}

std::vector<std::string> split(const std::string& text, char sep) {
    std::vector<std::string> out;
    std::string part;
    for (char c : text) {
        if (c == sep) {
            out.push_back(part);
            part.clear();
        } else {
            part += c;
        }
    }
    out.push_back(part);
    return out;
}

// The cgroups of a systemd slice, as systemd nests them: "a-b.slice" is a.slice/a-b.slice.
std::vector<std::string> slice_components(const std::string& slice) {
    const std::string suffix = ".slice";
    if (slice.size() <= suffix.size() || !slice.ends_with(suffix) || slice.find('/') != std::string::npos)
        refuse("linux.cgroupsPath", "\"" + slice + "\" is not a systemd slice name");
    const std::string name = slice.substr(0, slice.size() - suffix.size());
    if (name == "-") return {};  // the root slice
    std::vector<std::string> out;
    std::string prefix;
    for (const auto& part : split(name, '-')) {
        if (part.empty()) refuse("linux.cgroupsPath", "\"" + slice + "\" is not a systemd slice name");
        out.push_back(prefix + part + suffix);
        prefix += part + "-";
    }
    return out;
}

void check_component(const std::string& c, const std::string& text) {
    if (c == "..") refuse("linux.cgroupsPath", text + ": \"..\" is not allowed");
    if (c.find('\0') != std::string::npos || c.size() > 255)
        refuse("linux.cgroupsPath", text + ": not a cgroup name");
}

bool is_int(const json& v) { return v.is_number_integer(); }

std::int64_t int_at(const json& parent, const char* key, const std::string& field) {
    const json& v = parent.at(key);
    if (!is_int(v)) refuse(field, "must be an integer");
    if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))
        refuse(field, "out of range");
    return v.get<std::int64_t>();
}

std::string cpu_list_at(const json& parent, const char* key, const std::string& field) {
    const json& v = parent.at(key);
    if (!v.is_string()) refuse(field, "must be a string");
    std::string s = v.get<std::string>();
    if (s.find_first_not_of("0123456789,- ") != std::string::npos) refuse(field, s + " is not a list of numbers");
    return s;
}

// v1 takes -1 for "no limit", v2 "max".
std::string v2_limit(std::int64_t value) { return value < 0 ? "max" : std::to_string(value); }

void map_memory(const json& memory, std::vector<ControlWrite>& out, std::vector<std::string>& warnings) {
    if (!memory.is_object()) refuse("linux.resources.memory", "must be an object");
    std::optional<std::int64_t> limit;
    for (const auto& [key, value] : memory.items()) {
        const std::string field = "linux.resources.memory." + key;
        if (value.is_null()) continue;
        if (key == "limit") {
            limit = int_at(memory, "limit", field);
            out.push_back({"memory", "memory.limit_in_bytes", std::to_string(*limit), "memory.max", v2_limit(*limit)});
        } else if (key == "reservation") {
            const std::int64_t r = int_at(memory, "reservation", field);
            out.push_back({"memory", "memory.soft_limit_in_bytes", std::to_string(r), "memory.low", v2_limit(r)});
        } else if (key == "swappiness") {
            const std::int64_t s = int_at(memory, "swappiness", field);
            if (s < 0 || s > 100) refuse(field, "must be from 0 to 100");
            out.push_back({"memory", "memory.swappiness", std::to_string(s), "", "", true});
        } else if (key == "disableOOMKiller") {
            if (!value.is_boolean()) refuse(field, "must be a boolean");
            if (value.get<bool>()) out.push_back({"memory", "memory.oom_control", "1", "", ""});
        } else if (key == "kernel" || key == "kernelTCP") {
            warnings.push_back(field + ": not applied (kernel memory limits are deprecated; the kernel counts it in memory)");
        } else if (key == "swap" || key == "useHierarchy" || key == "checkBeforeUpdate") {
            continue;  // swap below, after the limit; the others change nothing at create
        } else {
            refuse(field, "not supported by aurora-runc yet (docs/oci.md)");
        }
    }
    if (memory.contains("swap") && !memory.at("swap").is_null()) {
        // runtime-spec's swap is memory+swap (v1's memsw); v2 caps swap alone.
        const std::int64_t swap = int_at(memory, "swap", "linux.resources.memory.swap");
        std::string v2 = "max";
        if (swap >= 0 && limit && *limit >= 0) {
            if (swap < *limit) refuse("linux.resources.memory.swap", "memory+swap is below the memory limit");
            v2 = std::to_string(swap - *limit);
        } else if (swap >= 0) {
            refuse("linux.resources.memory.swap", "needs linux.resources.memory.limit");
        }
        out.push_back({"memory", "memory.memsw.limit_in_bytes", std::to_string(swap), "memory.swap.max", v2, true});
    }
}

void map_cpu(const json& cpu, std::vector<ControlWrite>& out, std::vector<std::string>& warnings) {
    if (!cpu.is_object()) refuse("linux.resources.cpu", "must be an object");
    for (const auto& [key, value] : cpu.items()) {
        if (!std::set<std::string>{"shares", "quota", "period", "realtimeRuntime", "realtimePeriod", "cpus", "mems",
                                   "idle"}
                 .contains(key))
            refuse("linux.resources.cpu." + key, "not supported by aurora-runc yet (docs/oci.md)");
    }
    auto has = [&](const char* key) { return cpu.contains(key) && !cpu.at(key).is_null(); };
    if (has("shares")) {
        const std::int64_t shares = int_at(cpu, "shares", "linux.resources.cpu.shares");
        if (shares < 2 || shares > 262144) refuse("linux.resources.cpu.shares", "must be from 2 to 262144");
        // runc's conversion of shares [2, 262144] to a weight [1, 10000].
        const std::int64_t weight = 1 + ((shares - 2) * 9999) / 262142;
        out.push_back({"cpu", "cpu.shares", std::to_string(shares), "cpu.weight", std::to_string(weight)});
    }
    std::int64_t period = 100000;
    if (has("period")) {
        period = int_at(cpu, "period", "linux.resources.cpu.period");
        if (period < 1000 || period > 1000000) refuse("linux.resources.cpu.period", "must be from 1000 to 1000000");
    }
    if (has("quota")) {
        const std::int64_t quota = int_at(cpu, "quota", "linux.resources.cpu.quota");
        if (quota == 0 || (quota > 0 && quota < 1000)) refuse("linux.resources.cpu.quota", "must be -1 or at least 1000");
        // v2 holds both in cpu.max; v1 takes the period first (the quota is checked against it).
        const std::string v2 = v2_limit(quota) + " " + std::to_string(period);
        if (has("period")) out.push_back({"cpu", "cpu.cfs_period_us", std::to_string(period), "cpu.max", v2});
        out.push_back({"cpu", "cpu.cfs_quota_us", std::to_string(quota < 0 ? -1 : quota), "cpu.max", v2});
    } else if (has("period")) {
        out.push_back({"cpu", "cpu.cfs_period_us", std::to_string(period), "cpu.max", "max " + std::to_string(period)});
    }
    if (has("realtimePeriod"))
        out.push_back({"cpu", "cpu.rt_period_us",
                       std::to_string(int_at(cpu, "realtimePeriod", "linux.resources.cpu.realtimePeriod")), "", "",
                       true});
    if (has("realtimeRuntime"))
        out.push_back({"cpu", "cpu.rt_runtime_us",
                       std::to_string(int_at(cpu, "realtimeRuntime", "linux.resources.cpu.realtimeRuntime")), "", "",
                       true});
    if (has("idle")) warnings.push_back("linux.resources.cpu.idle: not applied");
    if (has("cpus")) {
        const std::string cpus = cpu_list_at(cpu, "cpus", "linux.resources.cpu.cpus");
        out.push_back({"cpuset", "cpuset.cpus", cpus, "cpuset.cpus", cpus});
    }
    if (has("mems")) {
        const std::string mems = cpu_list_at(cpu, "mems", "linux.resources.cpu.mems");
        out.push_back({"cpuset", "cpuset.mems", mems, "cpuset.mems", mems});
    }
}

// One rule of linux.resources.devices as v1 writes it: "TYPE MAJOR:MINOR ACCESS" to
// devices.allow or devices.deny, "*" for an absent number.
ControlWrite device_rule(const json& rule, std::size_t index) {
    const std::string field = "linux.resources.devices[" + std::to_string(index) + "]";
    if (!rule.is_object()) refuse(field, "must be an object");
    for (const auto& [key, value] : rule.items())
        if (key != "allow" && key != "type" && key != "major" && key != "minor" && key != "access")
            refuse(field + "." + key, "not a device rule's field");
    if (!rule.contains("allow") || !rule.at("allow").is_boolean()) refuse(field + ".allow", "must be true or false");
    auto present = [&](const char* key) { return rule.contains(key) && !rule.at(key).is_null(); };
    std::string type = "a";
    if (present("type")) {
        if (!rule.at("type").is_string()) refuse(field + ".type", "must be a string");
        type = rule.at("type").get<std::string>();
        if (type != "a" && type != "c" && type != "b") refuse(field + ".type", type + ": must be a, c or b");
    }
    auto number = [&](const char* key) -> std::string {
        if (!present(key) || type == "a") return "*";
        const std::int64_t n = int_at(rule, key, field + "." + key);
        if (n < -1 || n > 0xFFFFFFFF) refuse(field + "." + key, std::to_string(n) + ": not a device number");
        return n < 0 ? "*" : std::to_string(n);  // runc reads -1 as "any" too
    };
    std::string access = "rwm";
    if (present("access")) {
        if (!rule.at("access").is_string()) refuse(field + ".access", "must be a string");
        access = rule.at("access").get<std::string>();
        if (access.empty() || access.size() > 3 || access.find_first_not_of("rwm") != std::string::npos)
            refuse(field + ".access", "\"" + access + "\": must be made of r, w and m");
    }
    const std::string value = type + " " + number("major") + ":" + number("minor") + " " + access;
    return {"devices", rule.at("allow").get<bool>() ? "devices.allow" : "devices.deny", value, "", value};
}

}  // namespace

std::string CgroupsPath::text() const {
    std::string out;
    for (const auto& c : components) out += (out.empty() && !absolute ? "" : "/") + c;
    return out;
}

CgroupsPath parse_cgroups_path(const std::string& text, bool systemd) {
    CgroupsPath p;
    if (systemd) {
        const std::vector<std::string> parts = split(text, ':');
        if (parts.size() != 3 || parts[2].empty())
            refuse("linux.cgroupsPath", "\"" + text + "\" is not of the form slice:prefix:name (--systemd-cgroup)");
        p.components = slice_components(parts[0].empty() ? "system.slice" : parts[0]);
        const std::string& name = parts[2];
        std::string unit;
        if (name.ends_with(".slice"))
            unit = name;
        else
            unit = (parts[1].empty() ? "" : parts[1] + "-") + name + ".scope";
        if (unit.find('/') != std::string::npos) refuse("linux.cgroupsPath", "\"" + text + "\": a unit name holds no /");
        check_component(unit, text);
        p.components.push_back(unit);
        return p;
    }
    p.absolute = !text.empty() && text[0] == '/';
    for (const auto& c : split(text, '/')) {
        if (c.empty() || c == ".") continue;
        check_component(c, text);
        p.components.push_back(c);
    }
    if (p.components.empty()) refuse("linux.cgroupsPath", "\"" + text + "\" names no cgroup");
    return p;
}

std::string cgroup_dir_in(const helper::CgroupHierarchy& h, const CgroupsPath& path) {
    std::string base = h.mount_point;
    if (!path.absolute) {
        base = h.own_dir;
        if (h.version == helper::CgroupVersion::V2 && !h.own_is_root) base = base.substr(0, base.rfind('/'));
    }
    while (base.size() > 1 && base.back() == '/') base.pop_back();
    for (const auto& c : path.components) base += "/" + c;
    return base;
}

std::vector<ControlWrite> resource_writes(const json& resources, std::vector<std::string>& warnings,
                                          UnknownResource unknown) {
    std::vector<ControlWrite> out;
    if (!resources.is_object()) refuse("linux.resources", "must be an object");
    static const std::set<std::string> known = {"devices", "memory", "cpu",  "pids",   "blockIO",
                                                "hugepageLimits", "network", "rdma", "unified"};
    for (const auto& [key, value] : resources.items()) {
        if (!known.contains(key)) {
            if (unknown == UnknownResource::Refuse) refuse("linux.resources." + key, "not a runtime-spec resource");
            warnings.push_back("linux.resources." + key + ": not a runtime-spec property: ignored");
            continue;
        }
        if (value.is_null()) continue;
        if (key == "memory") {
            map_memory(value, out, warnings);
        } else if (key == "cpu") {
            map_cpu(value, out, warnings);
        } else if (key == "pids") {
            if (!value.is_object()) refuse("linux.resources.pids", "must be an object");
            if (!value.contains("limit")) continue;
            const std::int64_t limit = int_at(value, "limit", "linux.resources.pids.limit");
            // runc: 0 leaves the limit alone, a negative one is "max".
            if (limit != 0) {
                const std::string v = limit < 0 ? "max" : std::to_string(limit);
                out.push_back({"pids", "pids.max", v, "pids.max", v});
            }
        } else if (key == "devices") {
            // In the listed order (the spec's), then the sandbox's own nodes: device_allows.
            if (!value.is_array()) refuse("linux.resources.devices", "must be an array");
            for (std::size_t i = 0; i < value.size(); ++i) out.push_back(device_rule(value[i], i));
        } else if (!(value.is_array() || value.is_object()) || !value.empty()) {
            warnings.push_back("linux.resources." + key + ": not applied");
        }
    }
    return out;
}

void apply_sandbox_limits(const json& resources, const LimitCeiling& ceiling, policy::Limits& limits,
                          std::vector<std::string>& warnings) {
    if (!resources.is_object()) return;
    auto positive = [&](const char* key) -> std::optional<std::uint64_t> {
        if (!resources.contains(key) || !resources.at(key).is_object() || !resources.at(key).contains("limit"))
            return std::nullopt;
        const json& v = resources.at(key).at("limit");
        if (!v.is_number_integer() || v.get<std::int64_t>() <= 0) return std::nullopt;
        return v.get<std::uint64_t>();
    };
    auto set = [&](std::optional<std::uint64_t>& limit, std::uint64_t asked, const std::optional<std::uint64_t>& top,
                   const std::string& field, const char* unit) {
        // Within what a policy may hold: the record is parsed again by every exec and update.
        for (const policy::IntegerLimit& l : policy::integer_limits())
            if (&(limits.*l.field) == &limit) asked = std::clamp(asked, l.minimum, l.maximum);
        limit = asked;
        if (top && asked > *top) {
            limit = *top;
            warnings.push_back(field + ": " + std::to_string(asked) + unit +
                               " is above the ceiling of the container's aurora-jail policy, which applies (" +
                               std::to_string(*top) + unit + ")");
        }
    };
    if (const auto bytes = positive("memory"))
        set(limits.memory_mb, std::max<std::uint64_t>(1, *bytes >> 20), ceiling.memory_mb,
            "linux.resources.memory.limit", " MiB");
    if (const auto pids = positive("pids")) set(limits.pids, *pids, ceiling.pids, "linux.resources.pids.limit", "");
}

std::vector<ControlWrite> sandbox_limit_writes(const policy::Policy& policy) {
    const helper::CgroupRequest request = helper::cgroup_request_for(policy);
    std::vector<ControlWrite> out;
    if (request.memory_bytes) {
        const std::string bytes = std::to_string(*request.memory_bytes);
        out.push_back({"memory", "memory.limit_in_bytes", bytes, "memory.max", bytes});
        out.push_back({"memory", "memory.memsw.limit_in_bytes", bytes, "memory.swap.max", "0", true});
    }
    if (request.pids) {
        const std::string pids = std::to_string(*request.pids);
        out.push_back({"pids", "pids.max", pids, "pids.max", pids});
    }
    return out;
}

}  // namespace aj::oci

namespace aj::oci {

std::vector<ControlWrite> device_allows(const std::vector<DeviceNumber>& nodes) {
    std::vector<ControlWrite> out;
    for (const DeviceNumber& n : nodes) {
        if (n.type != 'c' && n.type != 'b') continue;  // a fifo is no device to the cgroup
        const std::string value = std::string(1, n.type) + " " + (n.major ? std::to_string(*n.major) : "*") + ":" +
                                  (n.minor ? std::to_string(*n.minor) : "*") + " " + n.access;
        out.push_back({"devices", "devices.allow", value, "", value});
    }
    return out;
}

void warn_not_applied_without_cgroups_path(const json& resources, std::vector<std::string>& warnings) {
    for (const auto& [key, value] : resources.items()) {
        if (key == "memory" || key == "pids" || value.is_null() || ((value.is_object() || value.is_array()) && value.empty()))
            continue;
        if (key == "devices")
            warnings.push_back("linux.resources.devices: not applied without linux.cgroupsPath (the container's "
                               "/dev holds only the sandbox's own nodes and those of linux.devices)");
        else
            warnings.push_back("linux.resources." + key +
                               ": not applied without linux.cgroupsPath (the policy's limits are)");
    }
}

}  // namespace aj::oci
