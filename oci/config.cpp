// config.json -> ContainerPlan. The mapping table of docs/oci.md, field by field.
#include "oci/config.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <set>

#include "helper/caps.hpp"
#include "helper/mount_plan.hpp"
#include "oci/container_ids.hpp"
#include "oci/process_rlimits.hpp"
#include "oci/seccomp_profile.hpp"
#include "policy/default_policy.hpp"
#include "policy/dir_list.hpp"
#include "policy/error.hpp"
#include "policy/json_text.hpp"
#include "policy/limits_table.hpp"
#include "policy/store.hpp"
#include "policy/sys.hpp"

namespace aj::oci {

using nlohmann::json;

namespace {

constexpr std::size_t kMaxConfigBytes = 4 << 20;

[[noreturn]] void refuse(const std::string& field, const std::string& why) {
    throw Error("config.json: " + field + ": " + why);
}

const json& object_at(const json& parent, const char* key, const std::string& field) {
    const json& v = parent.at(key);
    if (!v.is_object()) refuse(field, "must be an object");
    return v;
}

std::string string_at(const json& v, const std::string& field) {
    if (!v.is_string()) refuse(field, "must be a string");
    return v.get<std::string>();
}

bool absolute(const std::string& path) {
    return !path.empty() && path[0] == '/' && path.find('\0') == std::string::npos;
}

// A path of the config relative to the bundle unless absolute (root.path, bind sources).
std::string in_bundle(const std::string& bundle, const std::string& path) {
    return absolute(path) ? path : bundle + "/" + path;
}

// The runtime-spec's extensibility rule: a property the spec does not define is ignored,
// and a warning names it (runc ignores it silently); one the spec defines that aurora-runc
// does not carry out is refused, never dropped. `supported` and `unsupported` together are
// the spec's properties of that object.
void check_properties(const json& object, const std::set<std::string>& supported,
                      const std::set<std::string>& unsupported, const std::string& where,
                      std::vector<std::string>& warnings) {
    for (const auto& [key, value] : object.items()) {
        if (supported.contains(key)) continue;
        if (unsupported.contains(key)) refuse(where + key, "not supported by aurora-runc yet (docs/oci.md)");
        warnings.push_back(where + key + ": not a runtime-spec property: ignored");
    }
}

bool empty_value(const json& v) {
    return v.is_null() || (v.is_string() && v.get<std::string>().empty()) || (v.is_array() && v.empty()) ||
           (v.is_object() && v.empty());
}

// The sandbox's own /dev nodes (helper/mount_plan.cpp binds them from the host).
struct OwnDevice {
    const char* path;
    std::uint32_t major, minor;
};
constexpr OwnDevice kOwnDevices[] = {{"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
                                     {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0}};

template <typename T>
void narrow(std::optional<T>& limit, T value) {
    limit = limit ? std::min(*limit, value) : value;
}

// The sandbox's pids limit (its cgroup's pids.max, PID 1 included) for an RLIMIT_NPROC hard
// value: the container's processes as runc would allow them, plus the sandbox's init, which
// the config knows nothing of. A container whose limit is 0 or 1 still starts, its one
// process unable to fork, as under runc (the rlimit itself applies as written).
std::uint64_t pids_for_nproc(rlim_t hard) { return std::max<std::uint64_t>(hard, 1) + 1; }

// The file systems a config may list (a new instance each: helper::FilesystemMount).
const std::set<std::string>& filesystem_types() {
    static const std::set<std::string> types = {"proc", "tmpfs", "devpts", "mqueue", "sysfs"};
    return types;
}

// Folds one access-time option into `atime`, in the config's order; false when `o` is
// none. "atime", "norelatime" and "nostrictatime" undo their opposite, back to the
// default (the kernel's relatime for a new file system, the source's for a bind).
bool fold_atime_option(const std::string& o, helper::AtimeAttrs& atime) {
    static const std::pair<const char*, std::uint64_t> modes[] = {
        {"strictatime", MOUNT_ATTR_STRICTATIME}, {"noatime", MOUNT_ATTR_NOATIME}, {"relatime", MOUNT_ATTR_RELATIME}};
    static const std::pair<const char*, std::uint64_t> undo[] = {
        {"nostrictatime", MOUNT_ATTR_STRICTATIME}, {"atime", MOUNT_ATTR_NOATIME}, {"norelatime", MOUNT_ATTR_RELATIME}};
    for (const auto& [name, mode] : modes)
        if (o == name) {
            atime.change = true;
            atime.mode = mode;
            return true;
        }
    for (const auto& [name, mode] : undo)
        if (o == name) {
            if (atime.change && atime.mode == mode) atime.change = false;
            return true;
        }
    if (o == "nodiratime" || o == "diratime") {
        atime.nodiratime = o == "nodiratime";
        return true;
    }
    return false;
}

// The config's linux.namespaces entry of `type`, or nullptr (read before map_namespaces
// checks the list: a malformed one is refused there).
const json* namespace_entry(const json& config, const std::string& type) {
    if (!config.contains("linux") || !config.at("linux").is_object() || !config.at("linux").contains("namespaces") ||
        !config.at("linux").at("namespaces").is_array())
        return nullptr;
    for (const auto& ns : config.at("linux").at("namespaces"))
        if (ns.is_object() && ns.contains("type") && ns.at("type") == type) return &ns;
    return nullptr;
}

bool joined_by_path(const json& ns) { return ns.contains("path") && !empty_value(ns.at("path")); }

bool new_network_namespace(const json& config) {
    const json* ns = namespace_entry(config, "network");
    return ns && !joined_by_path(*ns);
}

// Listed without a path: joined by path or left out, the ipc namespace is not the
// sandbox's (map_namespaces).
bool new_ipc_namespace(const json& config) {
    const json* ns = namespace_entry(config, "ipc");
    return ns && !joined_by_path(*ns);
}

void map_root(const json& config, const std::string& bundle, ContainerPlan& plan) {
    if (!config.contains("root")) refuse("root", "missing");
    const json& root = object_at(config, "root", "root");
    check_properties(root, {"path", "readonly"}, {}, "root.", plan.warnings);
    if (!root.contains("path")) refuse("root.path", "missing");
    plan.rootfs = in_bundle(bundle, string_at(root.at("path"), "root.path"));
    const bool readonly = root.value("readonly", false);
    plan.root_readonly = readonly;
    const auto mode = readonly ? policy::PathMode::ReadOnly : policy::PathMode::ReadWrite;

    std::set<std::string> hidden;
    if (config.contains("mounts") && config.at("mounts").is_array())
        for (const auto& m : config.at("mounts"))
            if (m.is_object() && m.contains("type") && m.at("type").is_string() && m.contains("destination") &&
                m.at("destination").is_string() && filesystem_types().contains(m.at("type").get<std::string>()))
                hidden.insert(m.at("destination").get<std::string>());
    plan.rootfs_dir = sys::open_fd(plan.rootfs, O_RDONLY | O_DIRECTORY, "config.json: root.path");
    std::vector<std::string> names = sys::list_dir(plan.rootfs_dir.get(), "config.json: root.path " + plan.rootfs);
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
        // The sandbox's own /proc, minimal /dev and size-capped /tmp take these places, and
        // a file system the config mounts at /NAME (/sys) hides the entry anyway.
        if (name == "proc" || name == "dev" || name == "tmp" || hidden.contains("/" + name)) continue;
        struct stat st {};
        if (::fstatat(plan.rootfs_dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
            throw_errno("config.json: root.path " + plan.rootfs + ": inspecting " + name);
        // A symlink is recreated as the same link (an absolute one must resolve inside the
        // sandbox, never on the host); anything else is bound.
        plan.binds.push_back(helper::ExtraBind{plan.rootfs + "/" + name, "/" + name, mode, S_ISLNK(st.st_mode)});
    }
    plan.rootfs_entries = plan.binds.size();
}

// A non-negative integer of the config up to `max`, or nullopt.
std::optional<std::uint64_t> count_at(const json& v, std::uint64_t max) {
    // Parsed text holds non-negative numbers as unsigned; a built json may hold them signed.
    if (!v.is_number_integer() || (!v.is_number_unsigned() && v.get<std::int64_t>() < 0)) return std::nullopt;
    const std::uint64_t n = v.is_number_unsigned() ? v.get<std::uint64_t>() : static_cast<std::uint64_t>(v.get<std::int64_t>());
    if (n > max) return std::nullopt;
    return n;
}

// A uid or gid of the config: 0 to 2^32-2 ((uid_t)-1 means "unchanged" to the kernel).
std::uint32_t id_at(const json& v, const std::string& field) {
    const std::optional<std::uint64_t> id = count_at(v, 0xFFFFFFFEu);
    if (!id) refuse(field, "must be an id from 0 to 4294967294");
    return static_cast<std::uint32_t>(*id);
}

// process.user: the uid and gid inside the container's user namespace, and its
// supplementary groups (which of them can be set: container_ids.hpp).
void map_user(const json& process, ContainerPlan& plan) {
    plan.process.uid = 0;  // the spec's default: an absent user is uid/gid 0
    plan.process.gid = 0;
    if (!process.contains("user")) return;
    const json& user = object_at(process, "user", "process.user");
    check_properties(user, {"uid", "gid", "umask", "additionalGids", "username"}, {}, "process.user.", plan.warnings);
    if (user.contains("uid")) plan.process.uid = id_at(user.at("uid"), "process.user.uid");
    if (user.contains("gid")) plan.process.gid = id_at(user.at("gid"), "process.user.gid");
    if (user.contains("additionalGids") && !user.at("additionalGids").is_null()) {
        if (!user.at("additionalGids").is_array()) refuse("process.user.additionalGids", "must be an array of ids");
        for (const auto& g : user.at("additionalGids")) {
            const gid_t gid = id_at(g, "process.user.additionalGids[]");
            if (std::find(plan.additional_gids.begin(), plan.additional_gids.end(), gid) == plan.additional_gids.end())
                plan.additional_gids.push_back(gid);
        }
    }
    if (user.contains("umask")) {
        const std::optional<std::uint64_t> umask = count_at(user.at("umask"), 0777);
        if (!umask) refuse("process.user.umask", "must be a mode from 0 to 0777");
        plan.process.umask = static_cast<mode_t>(*umask);
    }
}

// process.capabilities: five lists of names, each set kept exactly as listed inside the
// container's user namespace (helper::set_kept_capabilities). A name that is no
// capability is refused; one the running kernel does not know is left out with a warning.
helper::CapabilitySets capability_sets(const json& caps, ContainerPlan& plan) {
    if (!caps.is_object()) refuse("process.capabilities", "must be an object");
    check_properties(caps, {"bounding", "effective", "permitted", "inheritable", "ambient"}, {}, "process.capabilities.",
                     plan.warnings);
    helper::CapabilitySets sets;
    const int last = helper::last_capability();
    for (const auto& [key, mask] : {std::pair{"bounding", &sets.bounding}, std::pair{"effective", &sets.effective},
                                    std::pair{"permitted", &sets.permitted}, std::pair{"inheritable", &sets.inheritable},
                                    std::pair{"ambient", &sets.ambient}}) {
        if (!caps.contains(key) || caps.at(key).is_null()) continue;
        const std::string field = std::string("process.capabilities.") + key;
        if (!caps.at(key).is_array()) refuse(field, "must be an array of capability names");
        for (const auto& v : caps.at(key)) {
            const std::string name = string_at(v, field + "[]");
            const std::optional<int> number = helper::capability_number(name);
            if (!number) refuse(field, name + " is not a capability");
            if (*number > last) {
                plan.warnings.push_back(field + " " + name + ": not known to the running kernel, not kept");
                continue;
            }
            *mask |= std::uint64_t{1} << *number;
        }
    }
    if ((sets.effective & ~sets.permitted) != 0)
        refuse("process.capabilities.effective", "lists a capability that permitted does not (the kernel refuses it)");
    if (const std::uint64_t dropped = sets.ambient & ~(sets.permitted & sets.inheritable); dropped != 0) {
        // The kernel raises an ambient capability only when it is permitted and inheritable.
        std::string names;
        for (int cap = 0; cap < 64; ++cap)
            if ((dropped >> cap) & 1U) names += " " + helper::capability_name(cap);
        plan.warnings.push_back("process.capabilities.ambient:" + names +
                                ": left out, not both permitted and inheritable (the kernel raises no other)");
        sets.ambient &= ~dropped;
    }
    return sets;
}

// process.terminal and consoleSize (a size without a terminal is ignored, as by runc).
void map_terminal(const json& process, ContainerPlan& plan) {
    if (!process.contains("terminal")) return;
    if (!process.at("terminal").is_boolean()) refuse("process.terminal", "must be true or false");
    if (!process.at("terminal").get<bool>()) return;
    ConsoleSize size;
    if (process.contains("consoleSize") && !process.at("consoleSize").is_null()) {
        const json& c = process.at("consoleSize");
        if (!c.is_object()) refuse("process.consoleSize", "must be an object");
        check_properties(c, {"height", "width"}, {}, "process.consoleSize.", plan.warnings);
        for (const auto& [key, field] : {std::pair{"height", &size.height}, std::pair{"width", &size.width}}) {
            if (!c.contains(key)) continue;
            const json& v = c.at(key);
            if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() > 0xffff)
                refuse(std::string("process.consoleSize.") + key, "must be an integer from 0 to 65535");
            *field = static_cast<unsigned short>(v.get<std::uint64_t>());
        }
    }
    plan.terminal = size;
}

void map_process(const json& config, ContainerPlan& plan) {
    if (!config.contains("process")) refuse("process", "missing (create needs the process to start)");
    const json& process = object_at(config, "process", "process");
    check_properties(process,
                     {"terminal", "consoleSize", "user", "args", "env", "cwd", "capabilities", "rlimits",
                      "noNewPrivileges", "apparmorProfile", "selinuxLabel", "oomScoreAdj"},
                     {"commandLine", "scheduler", "ioPriority", "execCPUAffinity"}, "process.", plan.warnings);
    map_terminal(process, plan);
    if (process.contains("oomScoreAdj")) {
        const json& v = process.at("oomScoreAdj");
        if (!v.is_number_integer() || v.get<std::int64_t>() < -1000 || v.get<std::int64_t>() > 1000)
            refuse("process.oomScoreAdj", "must be an integer from -1000 to 1000");
        plan.oom_score_adj = v.get<int>();
    }
    for (const char* key : {"apparmorProfile", "selinuxLabel"})
        if (process.contains(key) && !empty_value(process.at(key)))
            refuse(std::string("process.") + key, "not supported yet");

    if (!process.contains("args") || !process.at("args").is_array() || process.at("args").empty())
        refuse("process.args", "must be a non-empty array of strings");
    for (const auto& a : process.at("args")) plan.argv.push_back(string_at(a, "process.args[]"));

    plan.policy.env.pass.clear();
    plan.policy.env.set.clear();
    if (process.contains("env")) {
        if (!process.at("env").is_array()) refuse("process.env", "must be an array of strings");
        for (const auto& e : process.at("env")) {
            const std::string entry = string_at(e, "process.env[]");
            const std::size_t eq = entry.find('=');
            if (eq == std::string::npos || eq == 0) refuse("process.env", "entry " + entry + " is not NAME=VALUE");
            plan.policy.env.set[entry.substr(0, eq)] = entry.substr(eq + 1);
        }
    }

    if (!process.contains("cwd")) refuse("process.cwd", "missing");
    plan.cwd = string_at(process.at("cwd"), "process.cwd");
    if (!absolute(plan.cwd)) refuse("process.cwd", plan.cwd + " is not an absolute path");

    map_user(process, plan);
    plan.process.capabilities = process.contains("capabilities") ? capability_sets(process.at("capabilities"), plan)
                                                                 : helper::CapabilitySets{};
    if (process.contains("noNewPrivileges")) {
        if (!process.at("noNewPrivileges").is_boolean()) refuse("process.noNewPrivileges", "must be true or false");
        plan.process.no_new_privs = process.at("noNewPrivileges").get<bool>();
    } else {
        plan.process.no_new_privs = false;  // the spec's default
    }
    if (process.contains("rlimits") && !process.at("rlimits").is_null()) {
        const std::vector<helper::RlimitRequest> asked = parse_process_rlimits(process.at("rlimits"));
        // RLIMIT_NOFILE's and RLIMIT_NPROC's hard values narrow the policy's open_files and
        // pids too: the pids limit is also the container's cgroup pids.max, and exec's
        // ceiling is the recorded policy. An infinite one asks for no limit. Within what a
        // policy may hold (every exec parses the record again); the request itself still
        // applies as written, 0 included.
        for (const policy::IntegerLimit& field : policy::integer_limits()) {
            const int resource = field.field == &policy::Limits::open_files ? RLIMIT_NOFILE
                                 : field.field == &policy::Limits::pids     ? RLIMIT_NPROC
                                                                            : -1;
            for (const helper::RlimitRequest& r : asked)
                if (r.resource == resource && r.hard != RLIM_INFINITY)
                    narrow(plan.policy.limits.*field.field,
                           std::clamp<std::uint64_t>(resource == RLIMIT_NPROC ? pids_for_nproc(r.hard) : r.hard,
                                                     field.minimum, field.maximum));
        }
        plan.process.rlimits = cap_by_policy(asked, plan.policy, plan.warnings);
    }
}

// One of the config's proc/tmpfs/devpts/mqueue/sysfs mounts. Mount flags become the
// mount's attributes (nosuid and nodev always: asking for suid or dev gets a warning);
// the rest are the file system's own options, given to it as they are (a uid=/gid= naming
// an id the container does not map is dropped at create, once its ids are leased:
// drop_unmapped_id_options in container_ids.hpp).
helper::FilesystemMount filesystem_mount(const std::string& type, const std::string& dest, const json& m,
                                         const std::vector<std::string>& options, ContainerPlan& plan) {
    helper::FilesystemMount f;
    f.type = type;
    f.target = dest;
    f.source = m.contains("source") ? string_at(m.at("source"), "mounts " + dest + " source") : type;
    const std::set<std::string> accepted = {"rw", "nosuid", "nodev", "exec", "private", "rprivate",
                                            "slave", "rslave", "shared", "rshared", "unbindable", "runbindable"};
    for (const auto& o : options) {
        if (o == "ro") {
            f.read_only = true;
        } else if (o == "noexec") {
            f.noexec = true;
        } else if (o == "suid" || o == "dev") {
            plan.warnings.push_back("mounts " + dest + ": option " + o + " not applied (nosuid,nodev always)");
        } else if (fold_atime_option(o, f.atime) || accepted.contains(o)) {
            continue;  // an access-time option (folded into f.atime) or a flag the sandbox always has
        } else if ((o.starts_with("uid=") || o.starts_with("gid=")) && !id_option_value(o)) {
            refuse("mounts " + dest, "option \"" + o + "\" needs a numeric id");
        } else if (o.find_first_of(",\0") != std::string::npos || o.empty() || o.front() == '=') {
            refuse("mounts " + dest, "option \"" + o + "\" is not a file system option");
        } else {
            f.options.push_back(o);
        }
    }
    if (type == "sysfs" && !f.read_only)
        plan.warnings.push_back("mounts " + dest + ": sysfs is mounted read-only");
    return f;
}

void map_mounts(const json& config, const std::string& bundle, ContainerPlan& plan) {
    if (!config.contains("mounts")) return;
    if (!config.at("mounts").is_array()) refuse("mounts", "must be an array");
    const std::set<std::string> bind_options = {"bind", "rbind", "ro", "rw", "nosuid", "nodev", "noexec", "exec",
                                                "private", "rprivate", "slave", "rslave"};
    const std::set<std::string> bind_propagation = {"shared", "rshared", "unbindable", "runbindable"};
    const bool own_network = new_network_namespace(config);
    const bool own_ipc = new_ipc_namespace(config);
    for (const auto& m : config.at("mounts")) {
        if (!m.is_object()) refuse("mounts[]", "must be an object");
        check_properties(m, {"destination", "type", "source", "options", "uidMappings", "gidMappings"}, {}, "mounts[].",
                         plan.warnings);
        const std::string dest = string_at(m.value("destination", json()), "mounts[].destination");
        if (!absolute(dest)) refuse("mounts " + dest, "destination is not an absolute path");
        const std::string type = m.contains("type") ? string_at(m.at("type"), "mounts " + dest + " type") : "";
        std::vector<std::string> options;
        if (m.contains("options")) {
            if (!m.at("options").is_array()) refuse("mounts " + dest + " options", "must be an array");
            for (const auto& o : m.at("options")) options.push_back(string_at(o, "mounts " + dest + " options[]"));
        }
        const bool is_bind = type == "bind" || std::count(options.begin(), options.end(), "bind") ||
                             std::count(options.begin(), options.end(), "rbind");
        if (is_bind) {
            helper::AtimeAttrs atime;
            for (const auto& o : options) {
                if (fold_atime_option(o, atime)) continue;
                if (bind_propagation.contains(o)) {
                    plan.warnings.push_back("mounts " + dest + ": option " + o + " not applied (mounts are always private)");
                } else if (o.find('=') != std::string::npos && o.front() != '=') {
                    // A file system's data option (mode=, size=): a bind takes none, as for runc.
                    plan.warnings.push_back("mounts " + dest + ": option " + o + " ignored (a bind has no data options)");
                } else if (!bind_options.contains(o)) {
                    refuse("mounts " + dest, "bind option " + o + " is not supported yet");
                }
            }
            if ((atime.change || atime.nodiratime) && ::geteuid() != 0) {
                // Only a root caller's monitor captures binds on the host: inside the
                // sandbox's user namespace the kernel locks a bind's atime flags (EPERM).
                plan.warnings.push_back("mounts " + dest + ": access-time options not applied (the source's, locked "
                                        "for an ordinary caller)");
                atime = {};
            }
            if (m.contains("uidMappings") || m.contains("gidMappings"))
                refuse("mounts " + dest, "idmapped binds are not supported yet");
            const std::string source = in_bundle(bundle, string_at(m.value("source", json()), "mounts " + dest + " source"));
            const bool ro = std::count(options.begin(), options.end(), "ro") > 0;
            helper::ExtraBind bind{source, dest, ro ? policy::PathMode::ReadOnly : policy::PathMode::ReadWrite, false};
            bind.noexec = std::count(options.begin(), options.end(), "noexec") > 0;
            bind.atime = atime;
            plan.mount_order.push_back({false, plan.binds.size()});
            plan.binds.push_back(std::move(bind));
        } else if (filesystem_types().contains(type)) {
            if (m.contains("uidMappings") || m.contains("gidMappings"))
                refuse("mounts " + dest, "uidMappings/gidMappings apply to binds only");
            if (type == "sysfs" && !own_network) {
                // A sysfs belongs to a network namespace: only the container's own may be mounted.
                plan.warnings.push_back("mounts " + dest + " (sysfs): not mounted without a network namespace of its own");
                continue;
            }
            if (type == "mqueue" && !own_ipc) {
                // An mqueue belongs to an ipc namespace, and mounting it needs CAP_SYS_ADMIN
                // over that namespace's owner: a joined one's or the runtime's is never the
                // sandbox's.
                plan.warnings.push_back("mounts " + dest +
                                        " (mqueue): not mounted in an ipc namespace the container shares");
                continue;
            }
            plan.mount_order.push_back({true, plan.filesystems.size()});
            plan.filesystems.push_back(filesystem_mount(type, dest, m, options, plan));
        } else if ((type == "cgroup" || type == "cgroup2") && dest == "/sys/fs/cgroup") {
            plan.warnings.push_back("mounts " + dest + " (" + type + "): not mounted yet");
        } else {
            refuse("mounts " + dest, "type " + (type.empty() ? std::string("(none)") : type) + " is not supported yet");
        }
    }
}

// Why a namespace of this type is never joined by path (oci/namespace_join.hpp).
std::string never_joined(const std::string& type) {
    if (type == "pid") return "the sandbox's init must be PID 1 of a pid namespace of its own";
    if (type == "mount") return "the container's root is built in a mount namespace of its own";
    if (type == "user") return "the sandbox's identity is its own user namespace's map";
    if (type == "cgroup") return "the sandbox's cgroup namespace is rooted at its own cgroup";
    return "";
}

void map_namespaces(const json& linux_, ContainerPlan& plan, bool policy_named) {
    std::set<std::string> asked;
    if (linux_.contains("namespaces")) {
        if (!linux_.at("namespaces").is_array()) refuse("linux.namespaces", "must be an array");
        for (const auto& ns : linux_.at("namespaces")) {
            if (!ns.is_object()) refuse("linux.namespaces[]", "must be an object");
            check_properties(ns, {"type", "path"}, {}, "linux.namespaces[].", plan.warnings);
            const std::string type = string_at(ns.value("type", json()), "linux.namespaces[].type");
            if (!std::set<std::string>{"pid", "network", "mount", "ipc", "uts", "user", "cgroup"}.contains(type))
                refuse("linux.namespaces " + type, "not supported");
            if (!asked.insert(type).second) refuse("linux.namespaces " + type, "listed twice");
            if (!joined_by_path(ns)) continue;
            const std::string path = string_at(ns.at("path"), "linux.namespaces " + type + " path");
            if (const std::string why = never_joined(type); !why.empty())
                refuse("linux.namespaces " + type + " path " + path, "joining it is not supported: " + why);
            plan.joined_namespaces.push_back(open_namespace(type, path));
            plan.shared_namespaces |= plan.joined_namespaces.back().clone_flag;
        }
    }
    // An ipc or uts namespace the config does not list is the runtime's, as the spec says
    // (podman --ipc=host, --uts=host; every default config lists both, so leaving one out
    // is the config's choice). The sandbox holds no capability over either: it cannot set
    // the host's hostname, nor touch IPC objects beyond what their modes give its host ids.
    for (const auto& [type, flag, what] :
         {std::tuple{"ipc", CLONE_NEWIPC,
                     "its SysV IPC objects and POSIX message queues, those the container creates outliving it"},
          std::tuple{"uts", CLONE_NEWUTS, "its hostname, which the container cannot change"}}) {
        if (asked.contains(type)) continue;
        plan.shared_namespaces |= flag;
        plan.warnings.push_back(std::string("linux.namespaces: no ") + type + " namespace listed: the container " +
                                "shares the runtime's (" + what + ")");
    }
    // pid, mount, user and cgroup are the sandbox itself (never_joined says why for each):
    // always new, stricter than a config that leaves one out asks.
    for (const char* always : {"pid", "mount", "user", "cgroup"})
        if (!asked.contains(always))
            plan.warnings.push_back(std::string("linux.namespaces: a new ") + always +
                                    " namespace is made although the config does not ask for one (" +
                                    never_joined(always) + ")");
    const bool joined_network = (plan.shared_namespaces & CLONE_NEWNET) != 0;
    if (asked.contains("network") && !joined_network) {
        plan.policy.network = policy::NetworkMode::None;
    } else if (policy_named && plan.policy.network == policy::NetworkMode::None) {
        refuse("linux.namespaces", std::string(joined_network ? "a joined network namespace" : "the host's network (no network namespace)") +
                                       " but the policy named by " + kPolicyAnnotation + " says network: none");
    } else {
        // The caller's network namespace, which the monitor first switches to the joined
        // one's (oci/namespace_join.hpp): the config's choice, recorded in state.json.
        plan.policy.network = policy::NetworkMode::Host;
    }
}

// memory.limit and pids.limit set the sandbox's own limits (helper/cgroup.hpp, below the
// container's cgroup) under the policy's ceiling (LimitCeiling: a named policy's own
// values; the OCI default policy's are defaults the engine's values replace), as every
// later update does. Applied before process.rlimits, whose RLIMIT_NPROC narrows the pids
// limit in both cases.
void map_resource_limits(const json& config, ContainerPlan& plan, bool policy_named) {
    if (policy_named) plan.limit_ceiling = LimitCeiling{plan.policy.limits.memory_mb, plan.policy.limits.pids};
    if (!config.contains("linux") || !config.at("linux").is_object() || !config.at("linux").contains("resources"))
        return;
    const json& resources = config.at("linux").at("resources");
    if (!resources.is_object()) refuse("linux.resources", "must be an object");
    // The sandbox's init counts in the pids cgroup: with 1 the process could not start.
    if (resources.contains("pids") && resources.at("pids").is_object() && resources.at("pids").contains("limit") &&
        resources.at("pids").at("limit") == 1)
        refuse("linux.resources.pids.limit", "1: the sandbox's init (PID 1) takes one pid itself, so the "
                                             "container's process could not start; at least 2");
    apply_sandbox_limits(resources, plan.limit_ceiling, plan.policy.limits, plan.warnings);
}

// With linux.cgroupsPath every value goes to the container's cgroup as runc writes it
// (oci/container_cgroup.hpp), device rules followed by the allows of the nodes the
// container has (device_allows); without, what is not memory or pids gets a warning.
void map_resources(const json& resources, const json& linux_, ContainerPlan& plan) {
    if (linux_.contains("cgroupsPath") && !empty_value(linux_.at("cgroupsPath"))) {
        try {
            plan.cgroup_writes = resource_writes(resources, plan.warnings, UnknownResource::Ignore);
        } catch (const Error& e) {
            throw e.wrap("config.json");
        }
        if (std::none_of(plan.cgroup_writes.begin(), plan.cgroup_writes.end(),
                         [](const ControlWrite& w) { return w.controller == "devices"; }))
            return;
        std::vector<DeviceNumber> nodes;
        for (const OwnDevice& d : kOwnDevices) nodes.push_back({'c', d.major, d.minor, "rw"});
        nodes.push_back({'c', 5, 2, "rw"});              // /dev/ptmx
        nodes.push_back({'c', 136, std::nullopt, "rw"});  // /dev/pts/*, /dev/console on a terminal
        for (const DeviceNode& d : plan.device_nodes) nodes.push_back({d.type, d.major, d.minor, "m"});
        for (ControlWrite& w : device_allows(nodes)) plan.cgroup_writes.push_back(std::move(w));
        return;
    }
    warn_not_applied_without_cgroups_path(resources, plan.warnings);
}

// Only sysctls of the container's own network namespace (when it has one of its own):
// anything else either changes the host for everyone (refused as such), or belongs to the
// container's IPC namespace (kernel.shm*, msg*, sem, fs.mqueue.*), whose files only the
// namespace's uid 0 may write, and uid 0 is not mapped inside (refused as not yet).
void map_sysctls(const json& sysctl, ContainerPlan& plan) {
    if (!sysctl.is_object()) refuse("linux.sysctl", "must be an object of strings");
    const std::set<std::string> ipc = {"kernel.shmmax", "kernel.shmall", "kernel.shmmni", "kernel.shm_rmid_forced",
                                       "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem"};
    for (const auto& [key, v] : sysctl.items()) {
        const std::string value = string_at(v, "linux.sysctl." + key);
        if (key == "kernel.hostname") {
            if (!value.empty()) plan.policy.hostname = value;
            continue;
        }
        if (ipc.contains(key) || key.starts_with("fs.mqueue."))
            refuse("linux.sysctl." + key, "not supported yet (the IPC namespace's sysctls: planned)");
        if (!key.starts_with("net."))
            refuse("linux.sysctl." + key, "not a sysctl of the container's own namespaces");
        if (key == "net.ipv4.ping_group_range" && (plan.shared_namespaces & CLONE_NEWNET)) {
            // podman asks for it with every network it makes. The joined namespace is not
            // the sandbox's to change (nor could PID 1), and the range only widens who may
            // open ping sockets: left as the namespace has it.
            plan.warnings.push_back("linux.sysctl." + key + " " + value +
                                    ": not written, the joined network namespace keeps its own");
            continue;
        }
        if (plan.policy.network != policy::NetworkMode::None)
            refuse("linux.sysctl." + key, "the container has no network namespace of its own: it would change the host's");
        if (key == "net.ipv4.ping_group_range") {
            // The kernel takes only gids mapped inside, and only the process's is: the range
            // is written as what it means for the container: that gid in it, or nobody,
            // which is a new network namespace's own value ("1 0", which cannot be written).
            long long lo = 0, hi = 0;
            std::istringstream fields(value);
            std::string extra;
            if (!(fields >> lo >> hi) || (fields >> extra))
                refuse("linux.sysctl." + key, value + " is not two group ids");
            const long long gid = plan.process.gid;
            const std::string only = std::to_string(gid) + " " + std::to_string(gid);
            const bool in = lo <= gid && gid <= hi;
            plan.warnings.push_back("linux.sysctl." + key + " " + value + ": " +
                                    (in ? "written as " + only : std::string("left at nobody")) +
                                    ", the only gid mapped inside is " + std::to_string(gid));
            if (in) plan.sysctls.emplace_back(key, only);
            continue;
        }
        plan.sysctls.emplace_back(key, value);
    }
}

// linux.uidMappings / gidMappings, as written (what is honoured, and for whom:
// container_ids.hpp). The process's id must lie in one of the ranges, as it must for any
// runtime; a range must fit below 2^32-1 on both sides.
std::vector<helper::IdMapRange> parse_id_mappings(const json& linux_, const char* key, std::uint32_t id,
                                                  std::vector<std::string>& warnings) {
    std::vector<helper::IdMapRange> ranges;
    if (!linux_.contains(key) || linux_.at(key).is_null()) return ranges;
    const std::string field = std::string("linux.") + key;
    if (!linux_.at(key).is_array()) refuse(field, "must be an array of {containerID, hostID, size}");
    if (linux_.at(key).empty()) return ranges;
    bool inside = false;
    for (const auto& m : linux_.at(key)) {
        if (!m.is_object()) refuse(field + "[]", "must be an object");
        check_properties(m, {"containerID", "hostID", "size"}, {}, field + "[].", warnings);
        if (!m.contains("containerID") || !m.contains("hostID") || !m.contains("size"))
            refuse(field + "[]", "needs containerID, hostID and size");
        const std::uint32_t first = id_at(m.at("containerID"), field + "[].containerID");
        const std::uint32_t host = id_at(m.at("hostID"), field + "[].hostID");
        const std::optional<std::uint64_t> size = count_at(m.at("size"), 0xFFFFFFFFu);
        if (!size || *size == 0) refuse(field + "[].size", "must be a count from 1 to 4294967295");
        if (first + *size - 1 > 0xFFFFFFFEu || host + *size - 1 > 0xFFFFFFFEu)
            refuse(field, std::to_string(first) + " " + std::to_string(host) + " " + std::to_string(*size) +
                              " reaches beyond id 4294967294");
        if (id >= first && id - first < *size) inside = true;
        ranges.push_back({first, host, static_cast<std::uint32_t>(*size)});
    }
    const char* what = std::string(key) == "uidMappings" ? "uid" : "gid";
    if (!inside)
        refuse(field, std::string("the process's ") + what + " " + std::to_string(id) + " is in none of the ranges");
    return ranges;
}

// linux.devices, read without touching the host (oci/device_nodes.hpp: a root monitor
// makes the nodes, anyone else gets the host's own bound). A path below /dev without "."
// or ".." components; one of the sandbox's own nodes may be listed only with its own type
// and numbers (it is then left out: the sandbox has it), never to replace it.
void map_devices(const json& devices, ContainerPlan& plan) {
    if (!devices.is_array()) refuse("linux.devices", "must be an array");
    for (const auto& d : devices) {
        if (!d.is_object()) refuse("linux.devices[]", "must be an object");
        check_properties(d, {"path", "type", "major", "minor", "fileMode", "uid", "gid"}, {}, "linux.devices[].",
                         plan.warnings);
        DeviceNode node;
        node.path = string_at(d.value("path", json()), "linux.devices[].path");
        const std::string field = "linux.devices " + node.path;
        if (!absolute(node.path) || !node.path.starts_with("/dev/") || node.path.ends_with("/") ||
            (node.path + "/").find("/../") != std::string::npos || (node.path + "/").find("/./") != std::string::npos ||
            node.path.find("//") != std::string::npos)
            refuse(field, "not a path below /dev");
        const std::string type = string_at(d.value("type", json()), field + " type");
        if (type != "c" && type != "u" && type != "b" && type != "p")
            refuse(field, "type " + type + ": only char (c, u), block (b) devices and fifos (p) are made");
        node.type = type == "u" ? 'c' : type[0];
        for (const char* key : {"major", "minor"}) {
            // A fifo has no numbers (the spec lets them be left out).
            if (!d.contains(key) && node.type == 'p') continue;
            const std::optional<std::uint64_t> n = d.contains(key) ? count_at(d.at(key), 0xFFFFFFFFu) : std::nullopt;
            if (!n) refuse(field, std::string(key) + " must be a number");
            (std::string(key) == "major" ? node.major : node.minor) = static_cast<std::uint32_t>(*n);
        }
        if (d.contains("fileMode") && !d.at("fileMode").is_null()) {
            // The file-type bits some engines leave in (st_mode as stat gave it) are
            // dropped, as runc drops them: the type is `type`'s.
            std::optional<std::uint64_t> mode = count_at(d.at("fileMode"), 0xFFFFFFFFu);
            if (mode) *mode &= ~static_cast<std::uint64_t>(S_IFMT);
            if (!mode || *mode > 07777) refuse(field, "fileMode must be permission bits (at most 07777)");
            node.mode = static_cast<mode_t>(*mode & 0777);
            if (*mode & 07000)
                plan.warnings.push_back(field + ": fileMode's set-id and sticky bits dropped (the node is on a "
                                                "nosuid mount; they mean nothing on a device)");
        }
        if (d.contains("uid") && !d.at("uid").is_null()) node.uid = id_at(d.at("uid"), field + " uid");
        if (d.contains("gid") && !d.at("gid").is_null()) node.gid = id_at(d.at("gid"), field + " gid");
        // The sandbox's own links and mount points in /dev: a node there would fail the
        // root's build (or hide what the sandbox mounts).
        static const std::set<std::string> reserved = {"fd", "stdin", "stdout", "stderr", "ptmx", "pts", "shm", "mqueue"};
        if (reserved.contains(node.path.substr(5, node.path.find('/', 5) - 5)))
            refuse(field, "the sandbox's own /dev/" + node.path.substr(5, node.path.find('/', 5) - 5) +
                              " is there");
        const auto same_own = std::find_if(std::begin(kOwnDevices), std::end(kOwnDevices),
                                           [&](const OwnDevice& o) { return node.path == o.path; });
        if (same_own != std::end(kOwnDevices)) {
            if (node.type != 'c' || node.major != same_own->major || node.minor != same_own->minor)
                refuse(field, "the sandbox's own " + node.path + " (char " + std::to_string(same_own->major) + ":" +
                                  std::to_string(same_own->minor) + ") cannot be replaced");
            continue;  // the sandbox's own node is this device already
        }
        const auto listed = std::find_if(plan.device_nodes.begin(), plan.device_nodes.end(),
                                         [&](const DeviceNode& n) { return n.path == node.path; });
        if (listed == plan.device_nodes.end()) plan.device_nodes.push_back(node);
        else if (!(*listed == node)) refuse(field, "listed twice, differently");
    }
}

void map_linux(const json& config, ContainerPlan& plan, bool policy_named) {
    const json none = json::object();
    const json& linux_ = config.contains("linux") ? object_at(config, "linux", "linux") : none;
    check_properties(linux_,
                     {"namespaces", "uidMappings", "gidMappings", "resources", "cgroupsPath", "seccomp", "maskedPaths",
                      "readonlyPaths", "rootfsPropagation", "sysctl", "devices", "mountLabel"},
                     {"timeOffsets", "netDevices", "unified", "intelRdt", "personality", "memoryPolicy"}, "linux.",
                     plan.warnings);
    map_namespaces(linux_, plan, policy_named);
    if (linux_.contains("sysctl")) map_sysctls(linux_.at("sysctl"), plan);
    if (linux_.contains("devices") && !linux_.at("devices").is_null()) map_devices(linux_.at("devices"), plan);
    if (linux_.contains("mountLabel") && !empty_value(linux_.at("mountLabel")))
        refuse("linux.mountLabel", "not supported yet");
    plan.uid_mappings = parse_id_mappings(linux_, "uidMappings", plan.process.uid, plan.warnings);
    plan.gid_mappings = parse_id_mappings(linux_, "gidMappings", plan.process.gid, plan.warnings);
    if (plan.uid_mappings.empty() != plan.gid_mappings.empty())
        refuse("linux.uidMappings", "uidMappings and gidMappings must be given together");
    if (linux_.contains("seccomp") && !linux_.at("seccomp").is_null()) {
        // Compiled now, so that a profile this build cannot enforce fails create.
        plan.seccomp_program = compile_seccomp_profile(linux_.at("seccomp"));
        check_policy_admits_profile(plan.policy);
        plan.seccomp_profile = linux_.at("seccomp");
    }
    if (linux_.contains("cgroupsPath") && !empty_value(linux_.at("cgroupsPath")))
        plan.cgroups_path = string_at(linux_.at("cgroupsPath"), "linux.cgroupsPath");
    if (linux_.contains("resources")) map_resources(linux_.at("resources"), linux_, plan);
    for (const auto& [key, paths] : {std::pair{"maskedPaths", &plan.masked_paths}, std::pair{"readonlyPaths", &plan.readonly_paths}}) {
        if (!linux_.contains(key)) continue;
        const std::string field = std::string("linux.") + key;
        if (!linux_.at(key).is_array()) refuse(field, "must be an array of paths");
        for (const auto& v : linux_.at(key)) {
            const std::string path = string_at(v, field + "[]");
            if (!absolute(path) || path.find("/../") != std::string::npos || path.ends_with("/.."))
                refuse(field, path + " is not an absolute path");
            paths->push_back(path);
        }
    }
    if (linux_.contains("rootfsPropagation"))
        plan.warnings.push_back("linux.rootfsPropagation: the sandbox's mounts are always private");
}

}  // namespace

policy::Policy oci_default_policy() {
    policy::Policy p = policy::default_policy();
    p.allowed_paths.clear();
    p.limits.timeout_sec.reset();
    p.limits.cpu_sec.reset();
    p.limits.cpus.reset();
    return p;
}

ContainerPlan plan_container(const json& config, const std::string& bundle,
                             const std::vector<std::string>& policy_dirs) {
    if (!config.is_object()) refuse("(top)", "must be a JSON object");
    ContainerPlan plan;
    check_properties(config,
                     {"ociVersion", "root", "process", "hostname", "domainname", "mounts", "linux", "annotations", "hooks"},
                     {"solaris", "windows", "vm", "zos"}, "", plan.warnings);
    const std::string version = string_at(config.value("ociVersion", json()), "ociVersion");
    if (!version.starts_with("1.")) refuse("ociVersion", version + " is not a 1.x runtime-spec version");
    if (config.contains("domainname") && !empty_value(config.at("domainname")))
        refuse("domainname", "not supported yet");

    bool policy_named = false;
    plan.policy = oci_default_policy();
    if (config.contains("annotations")) {
        const json& annotations = object_at(config, "annotations", "annotations");
        for (const auto& [key, value] : annotations.items()) string_at(value, "annotations." + key);
        plan.annotations = annotations;
        if (annotations.contains(kPolicyAnnotation)) {
            const std::string name = annotations.at(kPolicyAnnotation).get<std::string>();
            if (!policy::valid_policy_name(name))
                refuse(std::string("annotations.") + kPolicyAnnotation, name + " is not a stored policy name");
            plan.policy = policy::resolve_policy(name, policy_dirs).policy;
            plan.policy.allowed_paths.clear();  // the rootfs is the container's file system
            policy_named = true;
        }
    }
    const std::string policy_hostname = plan.policy.hostname;
    if (config.contains("hostname")) {
        const std::string hostname = string_at(config.at("hostname"), "hostname");
        if (!hostname.empty()) plan.policy.hostname = hostname;
    }
    map_root(config, bundle, plan);
    map_resource_limits(config, plan, policy_named);
    map_process(config, plan);
    map_mounts(config, bundle, plan);
    map_linux(config, plan, policy_named);
    if (plan.terminal) {
        try {
            helper::check_terminal_plan(plan.filesystems, plan.binds, plan.devices);
        } catch (const Error& e) {
            refuse("process.terminal", e.what());
        }
    }
    if (config.contains("hooks") && !config.at("hooks").is_null()) plan.hooks = parse_hooks(config.at("hooks"));
    if ((plan.shared_namespaces & CLONE_NEWUTS) && plan.policy.hostname != policy_hostname)
        plan.warnings.push_back("hostname " + plan.policy.hostname +
                                ": not set, the shared uts namespace keeps its own (the sandbox holds no "
                                "capability over it)");
    // Containers never degrade to rlimit-only mode: that would be a silent half-enforcement.
    plan.policy.allow_fallback = false;
    return plan;
}

ContainerPlan plan_container(const std::string& bundle, const std::vector<std::string>& policy_dirs) {
    const std::string path = bundle + "/config.json";
    std::string text;
    try {
        text = sys::read_file(path, kMaxConfigBytes);
    } catch (const Error& e) {
        throw e.wrap("reading the bundle's config.json");
    }
    return plan_container(policy::read_json_text(text, path), bundle, policy_dirs);
}

ContainerPlan plan_exec_process(const json& process, const policy::Policy& container_policy) {
    ContainerPlan plan;
    plan.policy = container_policy;
    map_process(json{{"process", process}}, plan);
    if (plan.oom_score_adj)
        plan.warnings.push_back("process.oomScoreAdj: not applied, the exec'd process takes the container's score");
    return plan;
}

}  // namespace aj::oci
