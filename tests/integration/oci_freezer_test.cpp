// The container's freezer (oci/container_freezer.hpp) on this host's real hierarchies: the
// v1 freezer and the v2 one (on a hybrid host, the unified mount), each tested where it
// exists, with a process counting in shared memory: frozen, it stops; thawed, it goes on.
// (aurora-runc's pause as a whole: oci_runc_test's Pause* tests.)
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "helper/cgroup_discovery.hpp"
#include "oci/container_freezer.hpp"
#include "policy/error.hpp"
#include "policy/random_name.hpp"

namespace aj::oci {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// A child process incrementing a counter in memory shared with this process; killed and
// reaped on destruction.
class Counter {
public:
    Counter() {
        void* mem = ::mmap(nullptr, sizeof(long), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (mem == MAP_FAILED) throw Error("mmap failed");
        count_ = static_cast<long*>(mem);  // zeroed by mmap
        pid_ = ::fork();
        if (pid_ < 0) throw Error("fork failed");
        if (pid_ == 0) {
            for (;;) {
                std::atomic_ref<long>(*count_).fetch_add(1);
                ::usleep(1000);
            }
        }
    }
    ~Counter() {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        ::munmap(count_, sizeof(long));
    }
    Counter(const Counter&) = delete;
    Counter& operator=(const Counter&) = delete;
    pid_t pid() const { return pid_; }
    long value() const { return std::atomic_ref<long>(*count_).load(); }
    // Whether the count moves within `within`.
    bool advances(std::chrono::milliseconds within = 5s) const {
        const long before = value();
        for (auto waited = 0ms; waited < within; waited += 10ms) {
            std::this_thread::sleep_for(10ms);
            if (value() != before) return true;
        }
        return false;
    }

private:
    long* count_ = nullptr;
    pid_t pid_ = -1;
};

// Thaws and removes the cgroups on destruction, however the test ends (a process left
// frozen in a v1 cgroup would not even die of SIGKILL).
class Removed {
public:
    explicit Removed(ContainerCgroups c) : c_(std::move(c)) {}
    ~Removed() {
        try {
            thaw_container_cgroups(c_);
            remove_container_cgroups(c_);
        } catch (const Error& e) {
            ADD_FAILURE() << e.what();
        }
    }
    Removed(const Removed&) = delete;
    Removed& operator=(const Removed&) = delete;

private:
    ContainerCgroups c_;
};

// A freezer-only cgroup in `h` (make_own_child_cgroup), or why the test cannot have one.
struct Made {
    std::optional<ContainerCgroups> cgroups;
    std::string why_not;
};
Made make_in(const helper::CgroupHierarchy& h) {
    Made m;
    try {
        m.cgroups = make_own_child_cgroup(h, "aj-freezer-test-" + sys::random_hex(4));
    } catch (const Error& e) {
        m.why_not = e.what();
    }
    return m;
}

void freeze_and_thaw(const helper::CgroupHierarchy& h, bool v2) {
    Made made = make_in(h);
    if (!made.cgroups) GTEST_SKIP() << "no cgroup beneath this process's own in " << h.mount_point << ": " << made.why_not;
    const ContainerCgroups& cgroups = *made.cgroups;
    ASSERT_EQ(cgroups.leaves.size(), 1U);
    const std::optional<Freezer> f = find_freezer(cgroups);
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(f->v2, v2);
    EXPECT_EQ(f->dir, cgroups.leaves[0]);
    {
        const Counter counter;
        const Removed removed(cgroups);  // before the counter is killed and reaped
        join_container_cgroups(cgroups, counter.pid());
        ASSERT_TRUE(counter.advances());
        EXPECT_FALSE(is_frozen(*f));
        freeze(*f);
        EXPECT_TRUE(is_frozen(*f));
        const long frozen_at = counter.value();
        std::this_thread::sleep_for(300ms);
        EXPECT_EQ(counter.value(), frozen_at) << "a frozen process ran";
        thaw(*f);
        EXPECT_FALSE(is_frozen(*f));
        EXPECT_TRUE(counter.advances()) << "a thawed process did not run";
        // Frozen again, then thawed by thaw_container_cgroups (kill's and delete's way).
        freeze(*f);
        thaw_container_cgroups(cgroups);
        EXPECT_FALSE(is_frozen(*f));
        EXPECT_TRUE(counter.advances());
    }
    EXPECT_FALSE(fs::exists(cgroups.leaves[0]));
}

TEST(OciFreezer, V1FreezerStopsAndResumesItsProcesses) {
    for (const auto& h : helper::discover_cgroup_hierarchies())
        if (h.version == helper::CgroupVersion::V1 && h.controllers.contains("freezer")) {
            freeze_and_thaw(h, false);
            return;
        }
    GTEST_SKIP() << "this host has no v1 freezer hierarchy";
}

TEST(OciFreezer, V2CgroupFreezeStopsAndResumesItsProcesses) {
    for (const auto& h : helper::discover_cgroup_hierarchies())
        if (h.version == helper::CgroupVersion::V2) {
            freeze_and_thaw(h, true);
            return;
        }
    GTEST_SKIP() << "this host mounts no cgroup v2 hierarchy";
}

// On a hybrid host the container is in both: the v1 freezer is the one used (its
// controllers are v1, as runc does there).
TEST(OciFreezer, AV1FreezerIsPreferredToV2) {
    const helper::CgroupHierarchy *v1 = nullptr, *v2 = nullptr;
    const std::vector<helper::CgroupHierarchy> hierarchies = helper::discover_cgroup_hierarchies();
    for (const auto& h : hierarchies) {
        if (h.version == helper::CgroupVersion::V1 && h.controllers.contains("freezer")) v1 = &h;
        if (h.version == helper::CgroupVersion::V2) v2 = &h;
    }
    if (!v1 || !v2) GTEST_SKIP() << "not a hybrid host with a v1 freezer";
    Made a = make_in(*v2), b = make_in(*v1);
    if (!a.cgroups || !b.cgroups) {
        if (a.cgroups) remove_container_cgroups(*a.cgroups);
        if (b.cgroups) remove_container_cgroups(*b.cgroups);
        GTEST_SKIP() << "no cgroup beneath this process's own: " << a.why_not << b.why_not;
    }
    ContainerCgroups both;
    both.leaves = {a.cgroups->leaves[0], b.cgroups->leaves[0]};
    const std::optional<Freezer> f = find_freezer(both);
    ASSERT_TRUE(f.has_value());
    EXPECT_FALSE(f->v2);
    EXPECT_EQ(f->dir, b.cgroups->leaves[0]);
    remove_container_cgroups(*a.cgroups);
    remove_container_cgroups(*b.cgroups);
}

}  // namespace
}  // namespace aj::oci
