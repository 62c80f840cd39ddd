// The container's cgroup at linux.cgroupsPath (oci/container_cgroup.hpp).
#include "oci/container_cgroup.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <sstream>

#include "helper/cgroup_discovery.hpp"
#include "helper/cgroup_fs.hpp"
#include "policy/error.hpp"
#include "policy/sys.hpp"

namespace aj::oci {

using nlohmann::json;

namespace {

using namespace std::chrono_literals;

std::set<std::string> words(const std::string& text) {
    std::set<std::string> out;
    std::istringstream in(text);
    for (std::string w; in >> w;) out.insert(w);
    return out;
}

std::vector<std::string> components_below(const std::string& mount_point, const std::string& dir) {
    std::string rest = dir.substr(mount_point.size());
    std::vector<std::string> out;
    std::string part;
    for (char c : rest + "/") {
        if (c != '/') {
            part += c;
        } else if (!part.empty()) {
            out.push_back(part);
            part.clear();
        }
    }
    return out;
}

// Opens the hierarchy's mount point and checks it is a cgroup file system.
sys::UniqueFd open_hierarchy_root(const helper::CgroupHierarchy& h) {
    sys::UniqueFd fd = helper::cgroupfs::open_dir(h.mount_point, "opening the cgroup hierarchy");
    struct statfs fs {};
    if (::fstatfs(fd.get(), &fs) != 0) throw_errno("statfs " + h.mount_point);
    if (fs.f_type != CGROUP_SUPER_MAGIC && fs.f_type != CGROUP2_SUPER_MAGIC)
        throw Error("linux.cgroupsPath: " + h.mount_point + " is not a cgroup file system");
    return fd;
}

// Enables, as far as the parent allows, the controllers the writes need in a v2 parent's
// subtree_control (failures show up as the controller missing in the leaf).
void enable_v2_controllers(int parent_fd, const std::set<std::string>& wanted) {
    std::optional<std::string> available = helper::cgroupfs::read_control(parent_fd, "", "cgroup.controllers");
    if (!available) return;
    const std::set<std::string> have = words(*available);
    for (const auto& c : wanted)
        if (have.contains(c)) (void)helper::cgroupfs::try_write_control(parent_fd, "cgroup.subtree_control", "+" + c);
}

// Makes (what is missing of) `dir` below the hierarchy's mount point, one component at a
// time below an open directory; returns the leaf's fd. Appends what it made to `created`.
// With `make` false, only opens what exists (the same walk: no link followed).
sys::UniqueFd make_dirs(const helper::CgroupHierarchy& h, const std::string& dir, const std::set<std::string>& v2_wanted,
                        std::vector<std::string>& created, bool make = true) {
    sys::UniqueFd fd = open_hierarchy_root(h);
    std::string path = h.mount_point;
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    if (!dir.starts_with(path + "/")) throw Error("linux.cgroupsPath: " + dir + " is not below " + path);
    const bool cpuset_v1 = h.version == helper::CgroupVersion::V1 && h.controllers.contains("cpuset");
    for (const auto& c : components_below(path, dir)) {
        if (make && h.version == helper::CgroupVersion::V2) enable_v2_controllers(fd.get(), v2_wanted);
        const std::string child = path + "/" + c;
        bool made = false;
        if (!make) {
            // opened below
        } else if (::mkdirat(fd.get(), c.c_str(), 0755) == 0) {
            created.push_back(child);
            made = true;
        } else if (errno != EEXIST) {
            throw_errno("linux.cgroupsPath: creating cgroup " + child);
        }
        sys::UniqueFd next(sys::retry_eintr(
            [&] { return ::openat(fd.get(), c.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC); }));
        if (!next) throw_errno("linux.cgroupsPath: opening cgroup " + child);
        if (made && cpuset_v1) {
            // A new v1 cpuset starts with no cpus and mems, and nothing may join it then.
            for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
                const std::string value = helper::cgroupfs::read_control(fd.get(), path, file).value_or("");
                if (value.empty() || value == "\n") continue;
                helper::cgroupfs::write_control(next.get(), child, file, value);
            }
        }
        fd = std::move(next);
        path = child;
    }
    return fd;
}

// Writes one value; a missing optional file is a warning.
void write_one(int fd, const std::string& dir, const std::string& file, const std::string& value, bool optional,
               std::vector<std::string>& warnings) {
    const int err = helper::cgroupfs::try_write_control(fd, file.c_str(), value);
    if (err == 0) return;
    if (err == ENOENT && optional) {
        warnings.push_back("linux.resources: " + dir + "/" + file + " does not exist here: " + value + " not applied");
        return;
    }
    throw_errno("linux.resources: writing " + dir + "/" + file + " = " + value, err);
}

// The controllers `dir` (open as `fd`) of hierarchy `h` carries.
std::set<std::string> controllers_of(const helper::CgroupHierarchy& h, int fd, const std::string& dir) {
    if (h.version == helper::CgroupVersion::V1) return h.controllers;
    return words(helper::cgroupfs::read_control(fd, dir, "cgroup.controllers").value_or(""));
}

// Writes into `dir` (open as `fd`, of hierarchy `h`) each of `writes` not done yet whose
// controller it carries, in order, and marks it done; `applied` gets "DIR/FILE = VALUE"
// for each that took. v1 refuses a memory limit above the memory+swap limit: when a
// memory+swap value follows in `writes`, it is written first then.
void write_in(const helper::CgroupHierarchy& h, int fd, const std::string& dir, const std::vector<ControlWrite>& writes,
              std::vector<bool>& done, std::vector<std::string>& warnings, std::vector<std::string>& applied) {
    const std::set<std::string> has = controllers_of(h, fd, dir);
    const bool v1 = h.version == helper::CgroupVersion::V1;
    auto write = [&](std::size_t i) {
        const ControlWrite& w = writes[i];
        done[i] = true;
        const std::string& file = v1 ? w.v1_file : w.v2_file;
        const std::string& value = v1 ? w.v1_value : w.v2_value;
        if (file.empty()) {
            warnings.push_back("linux.resources: " + (w.v1_file.empty() ? w.v2_file : w.v1_file) + " " +
                               (v1 ? w.v2_value : w.v1_value) + ": no cgroup v" + (v1 ? "1" : "2") +
                               " equivalent, not applied");
            return;
        }
        const std::size_t before = warnings.size();
        write_one(fd, dir, file, value, w.optional, warnings);
        if (warnings.size() == before) applied.push_back(dir + "/" + file + " = " + value);
    };
    for (std::size_t i = 0; i < writes.size(); ++i) {
        if (done[i] || !has.contains(writes[i].controller)) continue;
        if (v1 && writes[i].v1_file == "memory.limit_in_bytes") {
            const int err = helper::cgroupfs::try_write_control(fd, "memory.limit_in_bytes", writes[i].v1_value);
            if (err == 0) {
                done[i] = true;
                applied.push_back(dir + "/memory.limit_in_bytes = " + writes[i].v1_value);
                continue;
            }
            if (err == EINVAL)
                for (std::size_t j = i + 1; j < writes.size(); ++j)
                    if (!done[j] && writes[j].v1_file == "memory.memsw.limit_in_bytes") write(j);
        }
        write(i);
    }
}

// A warning for each of `writes` no hierarchy took; one for all device rules (a v2 host
// leaves every one).
void warn_undone(const std::vector<ControlWrite>& writes, const std::vector<bool>& done,
                 std::vector<std::string>& warnings) {
    std::size_t device_rules_left = 0;
    for (std::size_t i = 0; i < writes.size(); ++i) {
        if (done[i]) continue;
        if (writes[i].controller == "devices") {
            ++device_rules_left;
            continue;
        }
        warnings.push_back("linux.resources: " + writes[i].v1_file + " " + writes[i].v1_value +
                           ": not applied, no cgroup hierarchy here has the " + writes[i].controller + " controller");
    }
    if (device_rules_left)
        warnings.push_back("linux.resources.devices: " + std::to_string(device_rules_left) +
                           " rules not applied: no cgroup v1 devices hierarchy here (cgroup v2 would need a "
                           "device BPF program, not built); the container's /dev holds only the sandbox's own "
                           "nodes and those of linux.devices");
}

}  // namespace

json to_json(const ContainerCgroups& c) {
    json j{{"leaves", c.leaves}, {"created", c.created}};
    if (!c.no_freezer.empty()) j["no_freezer"] = c.no_freezer;
    if (c.freezer_only) j["freezer_only"] = true;
    return j;
}

ContainerCgroups container_cgroups_from_json(const json& j) {
    ContainerCgroups c;
    c.leaves = j.at("leaves").get<std::vector<std::string>>();
    c.created = j.at("created").get<std::vector<std::string>>();
    c.no_freezer = j.value("no_freezer", "");
    c.freezer_only = j.value("freezer_only", false);
    // delete kills what these directories hold and removes them: each must still be a
    // cgroup below a hierarchy this process sees, whatever the record says.
    const std::vector<helper::CgroupHierarchy> hierarchies = helper::discover_cgroup_hierarchies();
    for (const auto* list : {&c.leaves, &c.created}) {
        for (const auto& dir : *list) {
            bool below = false;
            for (const auto& h : hierarchies)
                below |= dir.starts_with(h.mount_point + "/") && dir.size() > h.mount_point.size() + 1;
            if (!below || dir.find("/../") != std::string::npos || dir.ends_with("/..") ||
                dir.find("/./") != std::string::npos || dir.find('\0') != std::string::npos)
                throw Error("the container's cgroup record names " + dir + ", not a cgroup below a hierarchy");
        }
    }
    return c;
}

ContainerCgroups make_container_cgroups(const CgroupsPath& path, const std::vector<ControlWrite>& writes,
                                        std::vector<std::string>& warnings) {
    ContainerCgroups made;
    try {
        const std::vector<helper::CgroupHierarchy> hierarchies = helper::discover_cgroup_hierarchies();
        if (hierarchies.empty()) throw Error("linux.cgroupsPath: this host mounts no cgroup hierarchy this process sees");
        std::vector<bool> done(writes.size(), false);
        std::vector<std::string> applied;  // all of it is removed on a failure
        std::set<std::string> v1_controllers;
        for (const auto& h : hierarchies)
            if (h.version == helper::CgroupVersion::V1) v1_controllers.insert(h.controllers.begin(), h.controllers.end());
        std::set<std::string> v2_wanted;
        for (const auto& w : writes)
            if (!v1_controllers.contains(w.controller)) v2_wanted.insert(w.controller);
        // v1 hierarchies first: on a hybrid host they carry the controllers.
        for (const auto version : {helper::CgroupVersion::V1, helper::CgroupVersion::V2}) {
            for (const auto& h : hierarchies) {
                if (h.version != version) continue;
                const std::string dir = cgroup_dir_in(h, path);
                sys::UniqueFd fd = make_dirs(h, dir, v2_wanted, made.created);
                made.leaves.push_back(dir);
                write_in(h, fd.get(), dir, writes, done, warnings, applied);
            }
        }
        warn_undone(writes, done, warnings);
    } catch (...) {
        try {
            remove_container_cgroups(made);
        } catch (const Error&) {
            // The original error says more; a leftover is named by the next delete.
        }
        throw;
    }
    return made;
}

ContainerCgroups make_own_child_cgroup(const helper::CgroupHierarchy& h, const std::string& name) {
    if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
        throw Error("cgroup name " + name + ": not one path component");
    ContainerCgroups made;
    std::string dir = h.own_dir;
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    dir += "/" + name;
    try {
        (void)make_dirs(h, dir, {}, made.created);
    } catch (...) {
        try {
            remove_container_cgroups(made);
        } catch (const Error&) {
            // The original error says more.
        }
        throw;
    }
    made.leaves.push_back(dir);
    return made;
}

void write_cgroup_resources(const std::vector<std::string>& dirs, const std::vector<ControlWrite>& writes,
                            std::vector<std::string>& warnings, std::vector<std::string>& applied) {
    const std::vector<helper::CgroupHierarchy> hierarchies = helper::discover_cgroup_hierarchies();
    std::vector<bool> done(writes.size(), false);
    for (const auto version : {helper::CgroupVersion::V1, helper::CgroupVersion::V2}) {
        for (const auto& h : hierarchies) {
            if (h.version != version) continue;
            for (const auto& dir : dirs) {
                if (!dir.starts_with(h.mount_point + "/")) continue;
                std::vector<std::string> none;
                sys::UniqueFd fd = make_dirs(h, dir, {}, none, false);
                write_in(h, fd.get(), dir, writes, done, warnings, applied);
                break;
            }
        }
    }
    warn_undone(writes, done, warnings);
}

void join_container_cgroups(const ContainerCgroups& cgroups, pid_t pid) {
    for (const auto& dir : cgroups.leaves) {
        sys::UniqueFd fd = helper::cgroupfs::open_dir(dir, "opening the container's cgroup");
        helper::cgroupfs::write_control(fd.get(), dir, "cgroup.procs", std::to_string(pid));
    }
}

void remove_container_cgroups(const ContainerCgroups& cgroups) {
    const std::set<std::string> leaves(cgroups.leaves.begin(), cgroups.leaves.end());
    std::string failed;
    for (auto it = cgroups.created.rbegin(); it != cgroups.created.rend(); ++it) {
        if (leaves.contains(*it)) {
            try {
                helper::cgroupfs::destroy_tree(*it, 3000ms);
            } catch (const Error& e) {
                if (failed.empty()) failed = e.what();
            }
        } else if (::rmdir(it->c_str()) != 0 && errno != ENOENT && errno != EBUSY && errno != ENOTEMPTY) {
            if (failed.empty()) failed = "removing cgroup " + *it + ": " + errno_text(errno);
        }
    }
    if (!failed.empty()) throw Error("the container's cgroup: " + failed);
}

}  // namespace aj::oci
