#include "oci/container_state.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "oci/container_freezer.hpp"
#include "policy/error.hpp"
#include "policy/json_text.hpp"
#include "runner/run_registry.hpp"

namespace aj::oci {

using nlohmann::json;

namespace {

std::string read_at(int dir_fd, const char* name) {
    sys::UniqueFd fd(::openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) throw_errno(std::string("opening ") + name);
    return sys::read_all(fd.get(), 1 << 20, std::string("reading ") + name);
}

bool exists_at(int dir_fd, const char* name) {
    struct stat st {};
    return ::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

// 'Z' for a zombie (dead, not yet reaped by its parent), from /proc/PID/stat field 3.
bool is_zombie(pid_t pid) {
    try {
        const std::string text = sys::read_file("/proc/" + std::to_string(pid) + "/stat", 4096);
        const std::size_t close = text.rfind(')');
        return close != std::string::npos && close + 2 < text.size() && text[close + 2] == 'Z';
    } catch (const Error&) {
        return false;
    }
}

}  // namespace

bool valid_container_id(const std::string& id) {
    if (id.empty() || id.size() > 1024 || id == "." || id == "..") return false;
    for (char c : id) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                        c == '.' || c == '+' || c == '-';
        if (!ok) return false;
    }
    return true;
}

std::string default_state_root() {
    if (::geteuid() == 0) return "/run/aurora-runc";
    const char* xdg = std::getenv("XDG_RUNTIME_DIR");
    if (xdg && xdg[0] == '/') return std::string(xdg) + "/aurora-runc";
    return "/tmp/aurora-runc-" + std::to_string(::geteuid());
}

sys::UniqueFd open_state_root(const std::string& root) {
    if (root.empty()) throw Error("--root: empty path");
    // Missing parents too, as runc makes them (containerd's shim passes RUNC_ROOT/NAMESPACE
    // before anything made RUNC_ROOT); each one 0700. The checks below are on the root itself.
    for (std::size_t slash = root.find('/', 1); slash != std::string::npos; slash = root.find('/', slash + 1)) {
        const std::string parent = root.substr(0, slash);
        if (::mkdir(parent.c_str(), 0700) != 0 && errno != EEXIST) throw_errno("creating state root " + parent);
    }
    if (::mkdir(root.c_str(), 0700) != 0 && errno != EEXIST) throw_errno("creating state root " + root);
    sys::UniqueFd fd = sys::open_fd(root, O_PATH | O_DIRECTORY | O_NOFOLLOW, "opening state root " + root);
    struct stat st {};
    sys::check(::fstat(fd.get(), &st), "examining state root " + root);
    if (st.st_uid != ::geteuid())
        throw Error("state root " + root + ": owned by uid " + std::to_string(st.st_uid) + ", not by the caller");
    if ((st.st_mode & 022) != 0) throw Error("state root " + root + ": writable by group or others");
    return fd;
}

json to_json(const RecordedState& s) {
    return json{{"id", s.id},           {"bundle", s.bundle},   {"rootfs", s.rootfs},
                {"created", s.created}, {"owner", s.owner},     {"annotations", s.annotations},
                {"pid", s.pid},         {"pid_start", s.pid_start}, {"monitor", s.monitor},
                {"monitor_start", s.monitor_start}, {"joined_namespaces", s.joined_namespaces}};
}

RecordedState recorded_state_from_json(const json& j) {
    RecordedState s;
    s.id = j.at("id").get<std::string>();
    s.bundle = j.at("bundle").get<std::string>();
    s.rootfs = j.at("rootfs").get<std::string>();
    s.created = j.at("created").get<std::string>();
    s.owner = j.at("owner").get<std::string>();
    s.annotations = j.at("annotations");
    s.pid = j.at("pid").get<pid_t>();
    s.pid_start = j.at("pid_start").get<unsigned long long>();
    s.monitor = j.at("monitor").get<pid_t>();
    s.monitor_start = j.at("monitor_start").get<unsigned long long>();
    s.joined_namespaces = j.value("joined_namespaces", json::object());
    return s;
}

std::string status_name(Status s) {
    switch (s) {
        case Status::Created: return "created";
        case Status::Running: return "running";
        case Status::Paused: return "paused";
        case Status::Stopped: return "stopped";
    }
    return "stopped";
}

Container::Container(int root_fd, const std::string& id) {
    if (!valid_container_id(id)) throw Error("invalid container ID format");
    dir_ = sys::UniqueFd(::openat(root_fd, id.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    // A directory whose monitor has not recorded the state yet is still being created.
    if (!dir_ || !exists_at(dir_.get(), kStateFile)) throw Error("container does not exist");
    sys::UniqueFd dir(::openat(root_fd, id.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir) throw_errno("opening the state of container " + id);
    try {
        state_ = recorded_state_from_json(policy::read_json_text(read_at(dir.get(), kStateFile), kStateFile));
    } catch (const json::exception& e) {
        throw Error("container " + id + ": corrupt " + kStateFile + ": " + e.what());
    }
    dir_ = std::move(dir);
}

bool Container::same_live_process(pid_t pid, unsigned long long start) {
    if (pid <= 0) return false;
    const auto now = runner::process_start_time(pid);
    return now && *now == start && !is_zombie(pid);
}

Status Container::status() const {
    if (exists_at(dir_.get(), kExitFile) || !same_live_process(state_.pid, state_.pid_start)) return Status::Stopped;
    if (!exists_at(dir_.get(), kStartedFile)) return Status::Created;
    // Asked of the kernel each time: a pause or resume that died half way is seen as it is.
    const std::optional<ContainerCgroups> own = cgroups();
    const std::optional<Freezer> freezer = own ? find_freezer(*own) : std::nullopt;
    return freezer && is_frozen(*freezer) ? Status::Paused : Status::Running;
}

json Container::state_json() const { return state_document(state_, status()); }

Hooks Container::hooks() const {
    if (!exists_at(dir_.get(), kHooksFile)) return {};
    return parse_hooks(policy::read_json_text(read_at(dir_.get(), kHooksFile), kHooksFile));
}

std::optional<ContainerCgroups> Container::cgroups() const {
    if (!exists_at(dir_.get(), kCgroupFile)) return std::nullopt;
    return container_cgroups_from_json(policy::read_json_text(read_at(dir_.get(), kCgroupFile), kCgroupFile));
}

json state_document(const RecordedState& state_, Status s) {
    json j{{"ociVersion", "1.0.2"},
           {"id", state_.id},
           {"pid", s == Status::Stopped ? 0 : state_.pid},
           {"status", status_name(s)},
           {"bundle", state_.bundle},
           {"rootfs", state_.rootfs},
           {"created", state_.created},
           {"owner", state_.owner}};
    if (!state_.annotations.empty()) j["annotations"] = state_.annotations;
    // Not a runtime-spec field (runc's rootfs, created and owner are not either): engines
    // decode what they know and skip the rest.
    if (!state_.joined_namespaces.empty()) j["joinedNamespaces"] = state_.joined_namespaces;
    return j;
}

void remove_container_dir(int root_fd, const std::string& id) {
    if (!valid_container_id(id)) throw Error("invalid container ID format");
    sys::UniqueFd dir(::openat(root_fd, id.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir) {
        if (errno == ENOENT) return;
        throw_errno("opening the state of container " + id);
    }
    for (const char* name : {kStateFile, kStartFifo, kStartedFile, kExitFile, kCgroupFile, kHooksFile,
                             kRestrictionsFile})
        if (::unlinkat(dir.get(), name, 0) != 0 && errno != ENOENT) throw_errno(std::string("removing ") + name);
    if (::unlinkat(root_fd, id.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
        throw_errno("removing the state directory of container " + id);
}

}  // namespace aj::oci
