#include "helper/cgroup.hpp"

#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "helper/cgroup_fs.hpp"
#include "helper/systemd_scope.hpp"
#include "policy/random_name.hpp"

namespace aj::helper {
namespace {

using namespace std::chrono_literals;
constexpr auto kRemoveBudget = 5000ms;
constexpr std::uint64_t kCpuPeriodUsec = 100000;

std::set<std::string> words(const std::string& text) {
    std::set<std::string> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t start = text.find_first_not_of(" \n\t", pos);
        if (start == std::string::npos) break;
        std::size_t end = text.find_first_of(" \n\t", start);
        if (end == std::string::npos) end = text.size();
        out.insert(text.substr(start, end - start));
        pos = end;
    }
    return out;
}

// Errors that mean "this hierarchy is not ours to use": fall back, do not fail the run.
bool is_unavailable(int err) {
    return err == EACCES || err == EPERM || err == EROFS || err == ENOENT || err == ENOSPC;
}

std::uint64_t cpu_quota_usec(double cpus) {
    // The kernel refuses quotas below 1 ms.
    double quota = std::ceil(cpus * static_cast<double>(kCpuPeriodUsec));
    return quota < 1000 ? 1000 : static_cast<std::uint64_t>(quota);
}

// Moves this (single-threaded) supervisor into a leaf of its own beneath `parent`, so
// that `parent` has no member processes and may enable controllers for its children
// (cgroup v2's "no internal processes" rule). Returns the leaf, or nullopt with a note.
std::optional<std::string> move_self_to_leaf(const std::string& parent, std::vector<std::string>& notes) {
    std::string leaf = parent + "/" + kCgroupPrefix + std::to_string(::getpid()) + "-supervisor";
    if (::mkdir(leaf.c_str(), 0755) != 0 && errno != EEXIST) {
        notes.push_back("cgroup v2: creating supervisor leaf " + leaf + ": " + errno_text(errno));
        return std::nullopt;
    }
    sys::UniqueFd fd = cgroupfs::open_dir(leaf, "opening supervisor leaf");
    if (int err = cgroupfs::try_write_control(fd.get(), "cgroup.procs", std::to_string(::getpid()))) {
        notes.push_back("cgroup v2: moving the supervisor into " + leaf + ": " + errno_text(err));
        ::rmdir(leaf.c_str());
        return std::nullopt;
    }
    return leaf;
}

void check_v2_parent(const std::string& parent, const CgroupHierarchy& h) {
    struct statfs fs {};
    if (::statfs(parent.c_str(), &fs) != 0) throw_errno("cgroup parent " + parent);
    if (fs.f_type != CGROUP2_SUPER_MAGIC)
        throw Error("cgroup parent " + parent + " is not in a cgroup2 file system");
    char* real = ::realpath(parent.c_str(), nullptr);
    if (!real) throw_errno("cgroup parent " + parent);
    std::string canonical = real;
    std::free(real);
    if (canonical != parent)
        throw Error("cgroup parent " + parent + " must be a canonical path (it resolves to " + canonical + ")");
    if (parent == h.mount_point && !h.own_is_root)
        throw Error("cgroup parent " + parent +
                    " is the hierarchy root: a sandbox must stay within its caller's accounting");
}

}  // namespace

CgroupOffer offer_own_cgroup_to_children() {
    CgroupOffer offer;
    if (const char* parent = std::getenv("AURORA_JAIL_CGROUP_PARENT"); parent && *parent) return offer;
    std::vector<CgroupHierarchy> hierarchies = discover_cgroup_hierarchies();
    const CgroupHierarchy* v2 = nullptr;
    for (const auto& h : hierarchies) {
        if (h.version == CgroupVersion::V1) {
            offer.why_not = "a cgroup v1 hierarchy is in use";
            return offer;
        }
        v2 = &h;
    }
    if (!v2 || v2->own_is_root) {
        offer.why_not = v2 ? "this process is at its cgroup hierarchy's root" : "no cgroup v2 hierarchy";
        return offer;
    }
    sys::UniqueFd fd = cgroupfs::open_dir(v2->own_dir, "opening our cgroup");
    const std::vector<pid_t> members = cgroupfs::read_procs(fd.get(), v2->own_dir);
    if (members.size() != 1 || members.front() != ::getpid()) {
        offer.why_not = "other processes live in " + v2->own_dir;
        return offer;
    }
    std::vector<std::string> notes;
    if (!move_self_to_leaf(v2->own_dir, notes)) {
        offer.why_not = notes.empty() ? "cannot step into a leaf of " + v2->own_dir : notes.front();
        return offer;
    }
    if (::setenv("AURORA_JAIL_CGROUP_PARENT", v2->own_dir.c_str(), 1) != 0) throw_errno("setenv AURORA_JAIL_CGROUP_PARENT");
    offer.parent = v2->own_dir;
    return offer;
}

const char* backend_name(LimitBackend backend) {
    switch (backend) {
        case LimitBackend::CgroupV2: return "cgroup-v2";
        case LimitBackend::CgroupV1: return "cgroup-v1";
        case LimitBackend::Rlimit: return "rlimit";
        case LimitBackend::None: return "none";
    }
    return "none";
}

CgroupRequest cgroup_request_for(const policy::Policy& policy) {
    CgroupRequest r;
    const auto& l = policy.limits;
    if (l.memory_mb) {
        constexpr std::uint64_t kMaxMb = std::uint64_t{1} << 40;  // keeps bytes in range
        r.memory_bytes = std::min(*l.memory_mb, kMaxMb) * 1024 * 1024;
    }
    r.cpus = l.cpus;
    r.pids = l.pids;
    if (const char* parent = std::getenv("AURORA_JAIL_CGROUP_PARENT"); parent && *parent)
        r.v2_parent = parent;
    return r;
}

Cgroup Cgroup::create(const CgroupRequest& request) {
    std::vector<CgroupHierarchy> hierarchies = discover_cgroup_hierarchies();
    Cgroup cg = create(request, hierarchies);
    if (!wants_systemd_scope(request, hierarchies, cg)) return cg;
    if (!systemd_is_init()) {
        cg.notes_.emplace_back("systemd scope: not asked for (systemd is not this host's init)");
        return cg;
    }
    // Our own cgroup gave no memory controller (a login session's scope belongs to root,
    // a service without Delegate= has none): ask systemd for a delegated scope holding
    // this process and start again from there.
    SystemdScope scope = join_delegated_scope();
    if (scope.unit.empty()) {
        cg.notes_.push_back(scope.why_not);
        return cg;
    }
    std::vector<std::string> notes = std::move(cg.notes_);
    cg.remove();
    Cgroup in_scope = create(request, discover_cgroup_hierarchies());
    in_scope.systemd_scope_ = scope.unit;
    notes.insert(notes.end(), in_scope.notes_.begin(), in_scope.notes_.end());
    in_scope.notes_ = std::move(notes);
    return in_scope;
}

bool Cgroup::wants_systemd_scope(const CgroupRequest& request, const std::vector<CgroupHierarchy>& hierarchies,
                                 const Cgroup& made) {
    // A configured parent is the deployer's choice; a hybrid host's controllers are v1
    // hierarchies a scope's delegation does not cover; at the root of a hierarchy (or of
    // our cgroup namespace) nothing above us is systemd's to hand out.
    if (request.v2_parent || made.backend(Limit::Memory) == LimitBackend::CgroupV2) return false;
    bool v2 = false;
    for (const auto& h : hierarchies) {
        if (h.version == CgroupVersion::V1 || h.own_is_root) return false;
        v2 = true;
    }
    return v2;
}

Cgroup Cgroup::create(const CgroupRequest& request, const std::vector<CgroupHierarchy>& hierarchies) {
    Cgroup cg;
    std::string name = kCgroupPrefix + std::to_string(::getpid()) + "-" + sys::random_hex(8);
    for (const auto& h : hierarchies)
        if (h.version == CgroupVersion::V2) cg.create_v2(request, h, name);

    // v1 for whatever v2 does not provide. Memory and cpu accounting are always wanted
    // (the report's peak memory, OOM and CPU time); cpu and pids only when limited.
    std::set<std::string> wanted_v1 = {"memory"};
    if (request.cpus) wanted_v1.insert("cpu");
    if (request.pids) wanted_v1.insert("pids");
    const Node* v2 = cg.node_with("");
    if (!v2 || !v2->controllers.count("cpu")) wanted_v1.insert("cpuacct");
    if (v2)
        for (const auto& c : v2->controllers) wanted_v1.erase(c);
    for (const auto& h : hierarchies) {
        if (h.version != CgroupVersion::V1) continue;
        std::set<std::string> use;
        for (const auto& c : h.controllers)
            if (wanted_v1.count(c)) use.insert(c);
        if (!use.empty()) cg.create_v1(request, h, name, use);
    }
    return cg;
}

void Cgroup::create_v2(const CgroupRequest& request, const CgroupHierarchy& where, const std::string& name) {
    CgroupHierarchy h = where;
    // Already moved into our supervisor leaf by an earlier sandbox of this process: its
    // parent is still the cgroup we were given.
    std::string leaf = std::string("/") + kCgroupPrefix + std::to_string(::getpid()) + "-supervisor";
    if (h.own_dir.size() > leaf.size() && h.own_dir.compare(h.own_dir.size() - leaf.size(), leaf.size(), leaf) == 0) {
        h.own_dir.erase(h.own_dir.size() - leaf.size());
        h.own_path.erase(h.own_path.size() - std::min(h.own_path.size(), leaf.size()));
        h.own_is_root = h.own_path.empty() || h.own_path == "/";
    }
    std::string parent = request.v2_parent ? *request.v2_parent : h.own_dir;
    if (request.v2_parent) check_v2_parent(parent, h);
    sweep_stale_cgroups(parent, notes_);
    sys::UniqueFd pfd = cgroupfs::open_dir(parent, "opening cgroup parent");

    std::set<std::string> available = words(cgroupfs::read_control(pfd.get(), parent, "cgroup.controllers").value_or(""));
    std::set<std::string> wanted;
    auto want = [&](const char* c, bool needed) {
        if (!needed) return;
        if (available.count(c)) wanted.insert(c);
        else notes_.push_back(std::string("cgroup v2 ") + c + ": not delegated to " + parent);
    };
    want("memory", true);
    want("cpu", request.cpus.has_value());
    want("pids", request.pids.has_value());

    std::set<std::string> enabled = words(cgroupfs::read_control(pfd.get(), parent, "cgroup.subtree_control").value_or(""));
    // "No internal processes": a non-root parent that has members and enabled controllers
    // cannot take a domain child (memory refuses with EBUSY; cpu and pids turn the parent
    // into a threaded root, and placing a process below it then fails with EOPNOTSUPP).
    // When the only member is us, we step into a leaf of our own first.
    bool missing = false;
    for (const auto& c : wanted) missing |= !enabled.count(c);
    if (!h.own_is_root || parent != h.own_dir) {
        bool busy = !cgroupfs::read_procs(pfd.get(), parent).empty();
        if (busy && missing && parent == h.own_dir && move_self_to_leaf(parent, notes_))
            busy = !cgroupfs::read_procs(pfd.get(), parent).empty();
        if (busy && (missing || !enabled.empty())) {
            notes_.push_back("cgroup v2: other processes live in " + parent +
                             ", so it cannot hold sandbox cgroups with controllers (no internal processes rule)");
            return;
        }
    }
    for (auto it = wanted.begin(); it != wanted.end();) {
        if (enabled.count(*it)) {
            ++it;
            continue;
        }
        if (int err = cgroupfs::try_write_control(pfd.get(), "cgroup.subtree_control", "+" + *it)) {
            notes_.push_back("cgroup v2 " + *it + ": enabling it in " + parent + "/cgroup.subtree_control: " + errno_text(err));
            it = wanted.erase(it);
        } else {
            ++it;
        }
    }

    std::string dir = parent + "/" + name;
    int fd = add_node(CgroupVersion::V2, wanted, dir, "cgroup v2");
    if (fd < 0) return;
    if (request.memory_bytes && wanted.count("memory")) {
        cgroupfs::write_control(fd, dir, "memory.max", std::to_string(*request.memory_bytes));
        // Without this the "limit" only moves the excess to swap.
        if (int err = cgroupfs::try_write_control(fd, "memory.swap.max", "0"))
            notes_.push_back("cgroup v2 memory: swap not capped (" + dir + "/memory.swap.max: " + errno_text(err) + ")");
        // An OOM ends the whole sandbox, not one victim: a command whose helper process
        // was chosen would otherwise go on without it (and a fork-per-request server
        // would never see its limit).
        if (int err = cgroupfs::try_write_control(fd, "memory.oom.group", "1"))
            notes_.push_back("cgroup v2 memory: an OOM kills one process, not the sandbox (" + dir +
                             "/memory.oom.group: " + errno_text(err) + ")");
        else
            oom_group_ = true;
    }
    if (request.cpus && wanted.count("cpu"))
        cgroupfs::write_control(fd, dir, "cpu.max",
                                std::to_string(cpu_quota_usec(*request.cpus)) + " " + std::to_string(kCpuPeriodUsec));
    if (request.pids && wanted.count("pids"))
        cgroupfs::write_control(fd, dir, "pids.max", std::to_string(*request.pids));
}

int Cgroup::add_node(CgroupVersion version, const std::set<std::string>& controllers, const std::string& dir,
                     const std::string& what) {
    if (::mkdir(dir.c_str(), 0755) != 0) {
        int err = errno;
        if (!is_unavailable(err)) throw_errno("creating cgroup " + dir, err);
        notes_.push_back(what + ": creating " + dir + ": " + errno_text(err));
        return -1;
    }
    // Recorded before it is opened, so that remove() deletes it even if opening fails.
    nodes_.push_back(Node{version, controllers, dir, sys::UniqueFd()});
    Node& node = nodes_.back();
    node.fd = cgroupfs::open_dir(dir, "opening cgroup");
    return node.fd.get();
}

void Cgroup::create_v1(const CgroupRequest& request, const CgroupHierarchy& h, const std::string& name,
                       const std::set<std::string>& use) {
    std::string what = "cgroup v1 ";
    for (const auto& c : h.controllers) what += (what.back() == ' ' ? "" : ",") + c;
    sweep_stale_cgroups(h.own_dir, notes_);
    std::string dir = h.own_dir + "/" + name;
    int fd = add_node(CgroupVersion::V1, use, dir, what);
    if (fd < 0) return;
    if (request.memory_bytes && use.count("memory")) {
        cgroupfs::write_control(fd, dir, "memory.limit_in_bytes", std::to_string(*request.memory_bytes));
        // memory+swap must be capped too, or the excess goes to swap (the file exists
        // only with swap accounting; its value may not be below limit_in_bytes).
        if (int err = cgroupfs::try_write_control(fd, "memory.memsw.limit_in_bytes", std::to_string(*request.memory_bytes)))
            notes_.push_back(what + ": swap not capped (" + dir + "/memory.memsw.limit_in_bytes: " + errno_text(err) + ")");
    }
    if (request.cpus && use.count("cpu")) {
        cgroupfs::write_control(fd, dir, "cpu.cfs_period_us", std::to_string(kCpuPeriodUsec));
        cgroupfs::write_control(fd, dir, "cpu.cfs_quota_us", std::to_string(cpu_quota_usec(*request.cpus)));
    }
    if (request.pids && use.count("pids"))
        cgroupfs::write_control(fd, dir, "pids.max", std::to_string(*request.pids));
}

Cgroup::~Cgroup() {
    try {
        remove();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "aurora-jail: warning: %s (left for the next start to remove)\n", e.what());
    }
}

const Cgroup::Node* Cgroup::node_with(const std::string& controller) const {
    for (const auto& n : nodes_) {
        if (controller.empty() && n.version == CgroupVersion::V2) return &n;
        if (!controller.empty() && n.controllers.count(controller)) return &n;
    }
    return nullptr;
}

int Cgroup::v2_fd() const {
    const Node* n = node_with("");
    return n ? n->fd.get() : -1;
}

void Cgroup::add_process(pid_t pid) const {
    for (const auto& n : nodes_) cgroupfs::write_control(n.fd.get(), n.dir, "cgroup.procs", std::to_string(pid));
}

LimitBackend Cgroup::backend(Limit limit) const {
    const Node* n = nullptr;
    switch (limit) {
        case Limit::Memory: n = node_with("memory"); break;
        case Limit::Cpus: n = node_with("cpu"); break;
        case Limit::Pids: n = node_with("pids"); break;
        case Limit::CpuTime: {
            const Node* v2 = node_with("");
            const Node* acct = node_with("cpuacct");
            // Every v2 cgroup has cpu.stat; prefer a v1 cpuacct only when v2 has no cpu.
            n = (v2 && (v2->controllers.count("cpu") || !acct)) ? v2 : acct;
            break;
        }
    }
    if (!n) return LimitBackend::None;
    return n->version == CgroupVersion::V2 ? LimitBackend::CgroupV2 : LimitBackend::CgroupV1;
}

std::optional<double> Cgroup::cpu_seconds() const {
    LimitBackend b = backend(Limit::CpuTime);
    if (b == LimitBackend::CgroupV2) {
        const Node* n = node_with("");
        auto text = cgroupfs::read_control(n->fd.get(), n->dir, "cpu.stat");
        if (auto usec = text ? cgroupfs::keyed_value(*text, "usage_usec") : std::nullopt)
            return static_cast<double>(*usec) / 1e6;
    } else if (b == LimitBackend::CgroupV1) {
        const Node* n = node_with("cpuacct");
        if (auto text = cgroupfs::read_control(n->fd.get(), n->dir, "cpuacct.usage"))
            return std::strtod(text->c_str(), nullptr) / 1e9;
    }
    return std::nullopt;
}

std::optional<std::string> Cgroup::cpu_max() const {
    const Node* n = node_with("cpu");
    if (!n) return std::nullopt;
    auto trimmed = [](std::optional<std::string> text) -> std::optional<std::string> {
        if (text) text->erase(text->find_last_not_of(" \n") + 1);
        return text;
    };
    if (n->version == CgroupVersion::V2) return trimmed(cgroupfs::read_control(n->fd.get(), n->dir, "cpu.max"));
    auto quota = trimmed(cgroupfs::read_control(n->fd.get(), n->dir, "cpu.cfs_quota_us"));
    auto period = trimmed(cgroupfs::read_control(n->fd.get(), n->dir, "cpu.cfs_period_us"));
    if (!quota || !period) return std::nullopt;
    return *quota + " " + *period;
}

CgroupStats Cgroup::stats() const {
    CgroupStats s;
    s.cpu_sec = cpu_seconds();
    if (const Node* n = node_with("cpu"))
        if (auto text = cgroupfs::read_control(n->fd.get(), n->dir, "cpu.stat"))
            s.cpu_throttled_periods = cgroupfs::keyed_value(*text, "nr_throttled");
    if (const Node* n = node_with("memory")) {
        bool v2 = n->version == CgroupVersion::V2;
        if (auto peak = cgroupfs::read_control(n->fd.get(), n->dir, v2 ? "memory.peak" : "memory.max_usage_in_bytes"))
            s.memory_peak_bytes = std::strtoull(peak->c_str(), nullptr, 10);
        if (auto events = cgroupfs::read_control(n->fd.get(), n->dir, v2 ? "memory.events" : "memory.oom_control"))
            s.oom_kills = cgroupfs::keyed_value(*events, "oom_kill");
    }
    if (const Node* n = node_with("pids")) {
        if (auto events = cgroupfs::read_control(n->fd.get(), n->dir, "pids.events"))
            s.pids_refused = cgroupfs::keyed_value(*events, "max");
        if (auto peak = cgroupfs::read_control(n->fd.get(), n->dir, "pids.peak"))
            s.pids_peak = std::strtoull(peak->c_str(), nullptr, 10);
    }
    return s;
}

std::vector<std::string> Cgroup::directories() const {
    std::vector<std::string> out;
    for (const auto& n : nodes_) out.push_back(n.dir);
    return out;
}

std::string Cgroup::mechanism(Limit limit) const {
    LimitBackend b = backend(limit);
    if (b == LimitBackend::CgroupV2 && !systemd_scope_.empty())
        return std::string(backend_name(b)) + " (systemd scope " + systemd_scope_ + ")";
    return backend_name(b);
}

nlohmann::json Cgroup::describe() const {
    nlohmann::json j = {{"memory", mechanism(Limit::Memory)},
                        {"cpus", mechanism(Limit::Cpus)},
                        {"pids", mechanism(Limit::Pids)},
                        {"cpu_time", mechanism(Limit::CpuTime)},
                        {"oom_group", oom_group_},
                        {"directories", directories()},
                        {"notes", notes_}};
    if (!systemd_scope_.empty()) j["systemd_scope"] = systemd_scope_;
    return j;
}

void Cgroup::kill_all() const {
    for (const auto& n : nodes_)
        if (cgroupfs::try_write_control(n.fd.get(), "cgroup.kill", "1") != 0) cgroupfs::kill_members(n.fd.get(), n.dir);
}

void Cgroup::remove() {
    std::optional<Error> first;
    // v2 first: its cgroup.kill takes everything at once; the v1 directories then empty.
    for (auto& n : nodes_) {
        n.fd.reset();
        try {
            cgroupfs::destroy_tree(n.dir, kRemoveBudget);
        } catch (const Error& e) {
            if (!first) first = e;
        }
    }
    nodes_.clear();
    if (first) throw *first;
}

}  // namespace aj::helper
