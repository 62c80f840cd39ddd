// The launcher's warm pool bookkeeping (runner/warm_pool.hpp), with real sockets standing
// for the warm run processes: which orders may be served warm, that only a ready sandbox
// takes one, refills, orders sent back, and the plugins it gives up.
#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/sys.hpp"
#include "runner/fd_passing.hpp"
#include "runner/warm_pool.hpp"
#include "tests/support/process.hpp"

using aj::runner::BouncedOrder;
using aj::runner::WarmPool;
using aj::runner::WarmProcess;
using aj::sys::UniqueFd;
using nlohmann::json;

namespace {

struct PoolFixture {
    aj::test::TempDir tmp;
    std::string state = tmp.path();
    std::vector<UniqueFd> warm_ends;  // the warm run processes' ends, in spawn order
    std::vector<std::string> spawned_for;
    WarmPool pool;
    aj::sys::Pipe a = aj::sys::make_pipe("a"), b = aj::sys::make_pipe("b"), c = aj::sys::make_pipe("c");

    explicit PoolFixture(unsigned per_plugin)
        : pool(per_plugin, [this](const std::string&, const std::string& plugin) {
              int fds[2];
              EXPECT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
              warm_ends.emplace_back(fds[1]);
              spawned_for.push_back(plugin);
              return WarmProcess{static_cast<pid_t>(100000 + warm_ends.size()), UniqueFd(fds[0])};
          }) {
        // Staged plugins are directories under STATE/plugins (the pool only checks that).
        EXPECT_EQ(::mkdir((state + "/plugins").c_str(), 0700), 0);
        for (const char* id : {"p1", "p2", "p3", "p4", "p5"})
            EXPECT_EQ(::mkdir((state + "/plugins/" + id).c_str(), 0700), 0);
    }

    std::string order(const std::string& plugin, const json& extra = json::object()) const {
        json request{{"plugin", plugin}, {"cmd", json::array({"/bin/echo", "hi"})}};
        request.update(extra);
        return json{{"name", "req-1"}, {"state_dir", state}, {"request", request}}.dump();
    }
    bool take(const std::string& text) {
        const int fds[] = {a.write.get(), b.write.get(), c.write.get()};
        return pool.take(text, fds);
    }
    // One round of the launcher's poll over the pool sockets.
    std::vector<BouncedOrder> events() {
        std::vector<pollfd> fds;
        pool.watch(fds);
        EXPECT_GE(::poll(fds.data(), fds.size(), 1000), 0);
        return pool.on_events(fds);
    }
    void ready(std::size_t i) {
        ASSERT_EQ(::send(warm_ends.at(i).get(), "ready", 5, 0), 5);
        events();
    }
};

}  // namespace

TEST(WarmPool, OnlyAReadySandboxTakesAnOrderAndTheHandOverRefills) {
    PoolFixture f(1);
    const std::string text = f.order("p1");
    EXPECT_FALSE(f.take(text)) << "nothing is warm before the plugin's first order";
    ASSERT_EQ(f.warm_ends.size(), 1u) << "that order starts filling the pool";
    EXPECT_FALSE(f.take(text)) << "a sandbox still being built takes nothing";
    EXPECT_EQ(f.warm_ends.size(), 1u) << "the pool holds one per plugin";

    f.ready(0);
    EXPECT_TRUE(f.take(text));
    std::vector<UniqueFd> got;
    EXPECT_EQ(aj::runner::recv_with_fds(f.warm_ends[0].get(), 1 << 16, got, "order"), text);
    EXPECT_EQ(got.size(), 3u);
    EXPECT_EQ(f.warm_ends.size(), 1u) << "the replacement waits for that request to end";
    f.warm_ends[0].reset();  // the request is over: that run process has ended
    f.events();
    EXPECT_EQ(f.warm_ends.size(), 2u) << "its end forks the replacement";
    EXPECT_FALSE(f.take(text)) << "one sandbox, one request: only the replacement, not ready yet";
    EXPECT_EQ(f.warm_ends.size(), 2u);
}

TEST(WarmPool, OrdersThatShapeTheSandboxOrNameNoStagedPluginRunCold) {
    PoolFixture f(2);
    EXPECT_FALSE(f.take(f.order("p1", {{"timeout", 5}})));
    EXPECT_FALSE(f.take(f.order("p1", {{"memory_mb", 64}})));
    EXPECT_FALSE(f.take(f.order("not-staged")));
    EXPECT_FALSE(f.take("not json"));
    EXPECT_TRUE(f.warm_ends.empty()) << "none of these may make the launcher fork a warm sandbox";
    EXPECT_FALSE(f.take(f.order("p1")));
    EXPECT_EQ(f.warm_ends.size(), 2u);
}

TEST(WarmPool, AnOrderSentBackComesOutWithItsDescriptors) {
    PoolFixture f(1);
    const std::string text = f.order("p1");
    f.take(text);
    f.ready(0);
    ASSERT_TRUE(f.take(text));
    std::vector<UniqueFd> got;
    ASSERT_EQ(aj::runner::recv_with_fds(f.warm_ends[0].get(), 1 << 16, got, "order"), text);
    const int back[] = {got[0].get(), got[1].get(), got[2].get()};
    aj::runner::send_with_fds(f.warm_ends[0].get(), text, back, "back");
    std::vector<BouncedOrder> bounced = f.events();
    ASSERT_EQ(bounced.size(), 1u);
    EXPECT_EQ(bounced[0].order, text);
    EXPECT_EQ(bounced[0].fds.size(), 3u);
}

TEST(WarmPool, APluginWhoseSandboxesDieBeforeReadyIsGivenUp) {
    PoolFixture f(1);
    const std::string text = f.order("p1");
    for (unsigned i = 0; i < aj::runner::kWarmBuildFailures; ++i) {
        EXPECT_FALSE(f.take(text));
        ASSERT_EQ(f.warm_ends.size(), i + 1);
        f.warm_ends.back().reset();  // it died building its sandbox
        f.events();
    }
    EXPECT_FALSE(f.take(text));
    EXPECT_EQ(f.warm_ends.size(), aj::runner::kWarmBuildFailures) << "no more forks for that plugin";
}

TEST(WarmPool, AtMostKMaxWarmPluginsArePooledTheLeastRecentlyUsedGivesUp) {
    PoolFixture f(1);
    for (const char* id : {"p1", "p2", "p3", "p4"}) f.take(f.order(id));
    ASSERT_EQ(f.warm_ends.size(), aj::runner::kMaxWarmPlugins);
    f.take(f.order("p5"));
    ASSERT_EQ(f.warm_ends.size(), aj::runner::kMaxWarmPlugins + 1);
    // p1's sandbox was dropped: its socket ended, which ends that run process.
    char byte;
    EXPECT_EQ(::recv(f.warm_ends[0].get(), &byte, 1, MSG_DONTWAIT), 0);
    EXPECT_EQ(::recv(f.warm_ends[1].get(), &byte, 1, MSG_DONTWAIT), -1) << "p2's sandbox stays";
}

TEST(WarmPool, DiscardAllEndsEveryIdleSandbox) {
    PoolFixture f(2);
    f.take(f.order("p1"));
    ASSERT_EQ(f.warm_ends.size(), 2u);
    f.pool.discard_all();
    char byte;
    for (const UniqueFd& end : f.warm_ends) EXPECT_EQ(::recv(end.get(), &byte, 1, MSG_DONTWAIT), 0);
}
