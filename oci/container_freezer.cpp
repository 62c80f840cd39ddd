// The container's cgroup freezer (oci/container_freezer.hpp).
#include "oci/container_freezer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <thread>

#include "helper/cgroup_discovery.hpp"
#include "helper/cgroup_fs.hpp"
#include "policy/error.hpp"
#include "policy/random_name.hpp"
#include "policy/sys.hpp"

namespace aj::oci {

namespace {

using namespace std::chrono_literals;

constexpr const char* kV1State = "freezer.state";
constexpr const char* kV2Freeze = "cgroup.freeze";
constexpr const char* kV2Events = "cgroup.events";

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
}

// What the kernel says now: v1 "THAWED", "FREEZING" or "FROZEN"; v2 cgroup.events'
// frozen value, "0" or "1".
std::string kernel_state(int fd, const Freezer& f) {
    if (!f.v2) return trimmed(helper::cgroupfs::read_control(fd, f.dir, kV1State).value_or(""));
    const std::optional<std::string> events = helper::cgroupfs::read_control(fd, f.dir, kV2Events);
    const std::optional<std::uint64_t> frozen = events ? helper::cgroupfs::keyed_value(*events, "frozen") : std::nullopt;
    return frozen ? std::to_string(*frozen) : "";
}

// Asks for `frozen` and waits until the kernel reports it; false when `budget` ran out.
// A v1 freezer stuck in FREEZING is asked again now and then: each request retries the
// tasks that did not stop yet.
bool set_and_wait(const Freezer& f, bool frozen, std::chrono::milliseconds budget) {
    const sys::UniqueFd fd = helper::cgroupfs::open_dir(f.dir, "opening the container's freezer");
    const char* file = f.v2 ? kV2Freeze : kV1State;
    const std::string request = f.v2 ? (frozen ? "1" : "0") : (frozen ? "FROZEN" : "THAWED");
    const std::string done = f.v2 ? (frozen ? "1" : "0") : request;
    const auto start = std::chrono::steady_clock::now();
    auto asked = start;
    helper::cgroupfs::write_control(fd.get(), f.dir, file, request);
    for (auto nap = 1ms;; nap = std::min(nap * 2, std::chrono::milliseconds(10))) {
        if (kernel_state(fd.get(), f) == done) return true;
        const auto now = std::chrono::steady_clock::now();
        if (now - start >= budget) return false;
        if (!f.v2 && now - asked >= 100ms) {
            helper::cgroupfs::write_control(fd.get(), f.dir, file, request);
            asked = now;
        }
        std::this_thread::sleep_for(nap);
    }
}

// The freezer a cgroup directory has, if any; none for a directory already removed.
std::optional<Freezer> freezer_at(const std::string& dir) {
    const sys::UniqueFd fd(
        sys::retry_eintr([&] { return ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC); }));
    if (!fd) {
        if (errno == ENOENT) return std::nullopt;
        throw_errno("opening the container's cgroup " + dir);
    }
    if (helper::cgroupfs::read_control(fd.get(), dir, kV1State)) return Freezer{dir, false};
    if (helper::cgroupfs::read_control(fd.get(), dir, kV2Freeze)) return Freezer{dir, true};
    return std::nullopt;
}

std::set<std::string> words(const std::string& text) {
    std::istringstream in(text);
    std::set<std::string> out;
    for (std::string w; in >> w;) out.insert(w);
    return out;
}

// cgroup v2's "no internal processes" rule: the sandbox's own cgroup below the freezer's
// gets memory, pids and cpu only from a parent without member processes. When create is
// alone in its cgroup (a delegated scope of its own, as `systemd-run --scope -p
// Delegate=yes` gives it, where an engine or a user would run it), it steps into a leaf
// beside the freezer's cgroup (recorded: delete removes it) and enables them for its
// children. With other processes beside it nothing changes: the caller's cgroup stays theirs.
void offer_controllers(const helper::CgroupHierarchy& h, const std::string& freezer_name, ContainerCgroups& made) {
    if (h.own_is_root) return;  // the root may hold processes and hand out controllers
    std::string own = h.own_dir;
    while (own.size() > 1 && own.back() == '/') own.pop_back();
    const sys::UniqueFd own_fd = helper::cgroupfs::open_dir(own, "opening our cgroup");
    const std::vector<pid_t> members = helper::cgroupfs::read_procs(own_fd.get(), own);
    if (members.size() != 1 || members.front() != ::getpid()) return;
    const std::string leaf_name = freezer_name + "-create";
    if (::mkdirat(own_fd.get(), leaf_name.c_str(), 0755) != 0) return;
    const std::string leaf = own + "/" + leaf_name;
    made.created.insert(made.created.begin(), leaf);
    const sys::UniqueFd leaf_fd = helper::cgroupfs::open_dir(leaf, "opening create's own leaf");
    if (helper::cgroupfs::try_write_control(leaf_fd.get(), "cgroup.procs", std::to_string(::getpid())) != 0) return;
    const std::set<std::string> available =
        words(helper::cgroupfs::read_control(own_fd.get(), own, "cgroup.controllers").value_or(""));
    for (const char* c : {"memory", "pids", "cpu"})
        if (available.contains(c))
            (void)helper::cgroupfs::try_write_control(own_fd.get(), "cgroup.subtree_control", std::string("+") + c);
}

}  // namespace

std::optional<Freezer> find_freezer(const ContainerCgroups& cgroups) {
    std::optional<Freezer> v2;
    for (const std::string& dir : cgroups.leaves) {
        std::optional<Freezer> f = freezer_at(dir);
        if (f && !f->v2) return f;
        if (f && !v2) v2 = f;
    }
    return v2;
}

ContainerCgroups make_freezer_cgroup(const std::string& id) {
    const std::vector<helper::CgroupHierarchy> hierarchies = helper::discover_cgroup_hierarchies();
    const helper::CgroupHierarchy* chosen = nullptr;
    for (const auto& h : hierarchies)
        if (h.version == helper::CgroupVersion::V1 && h.controllers.contains("freezer")) chosen = &h;
    if (!chosen)
        for (const auto& h : hierarchies)
            if (h.version == helper::CgroupVersion::V2) chosen = &h;
    ContainerCgroups none;
    none.freezer_only = true;
    if (!chosen) {
        none.no_freezer = "this host has no cgroup freezer this process sees (no v1 freezer hierarchy, no cgroup v2)";
        return none;
    }
    // A container id may be 1024 characters, a cgroup's name 255.
    const std::string name = "aurora-runc-" + id.substr(0, 64) + "-" + sys::random_hex(4);
    try {
        ContainerCgroups made = make_own_child_cgroup(*chosen, name);
        made.freezer_only = true;
        if (chosen->version == helper::CgroupVersion::V2) offer_controllers(*chosen, name, made);
        return made;
    } catch (const Error& e) {
        none.no_freezer = std::string("create could not make its freezer cgroup: ") + e.what();
        return none;
    }
}

std::optional<std::string> sandbox_parent_in_freezer(const ContainerCgroups& cgroups) {
    if (!cgroups.freezer_only) return std::nullopt;
    const std::optional<Freezer> f = find_freezer(cgroups);
    if (!f || !f->v2) return std::nullopt;
    const sys::UniqueFd fd = helper::cgroupfs::open_dir(f->dir, "opening the container's freezer");
    if (!words(helper::cgroupfs::read_control(fd.get(), f->dir, "cgroup.controllers").value_or("")).contains("memory"))
        return std::nullopt;
    return f->dir;
}

bool is_frozen(const Freezer& f) {
    const sys::UniqueFd fd = helper::cgroupfs::open_dir(f.dir, "opening the container's freezer");
    if (f.v2) return trimmed(helper::cgroupfs::read_control(fd.get(), f.dir, kV2Freeze).value_or("0")) == "1";
    const std::string state = kernel_state(fd.get(), f);
    return state == "FROZEN" || state == "FREEZING";
}

void freeze(const Freezer& f, std::chrono::milliseconds budget) {
    if (set_and_wait(f, true, budget)) return;
    // Never a container half frozen, half running: back to thawed, then the error.
    const bool thawed = set_and_wait(f, false, budget);
    throw Error("freezing " + f.dir + ": not every process froze within " + std::to_string(budget.count()) +
                " ms (one in uninterruptible sleep?); " + (thawed ? "thawed again" : "and it did not thaw either"));
}

void thaw(const Freezer& f, std::chrono::milliseconds budget) {
    if (!set_and_wait(f, false, budget))
        throw Error("thawing " + f.dir + ": still frozen after " + std::to_string(budget.count()) + " ms");
}

void thaw_container_cgroups(const ContainerCgroups& cgroups) {
    for (const std::string& dir : cgroups.leaves)
        if (const std::optional<Freezer> f = freezer_at(dir); f && is_frozen(*f)) thaw(*f);
}

}  // namespace aj::oci
