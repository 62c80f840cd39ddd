// `submit --wait`'s wait on a real queue directory, woken by inotify and, where inotify is
// unavailable, by polling: both find the answer, and both stop for a daemon that is not
// there. (How soon they wake is measured by bench/daemon.sh, not asserted here.)
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "policy/atomic_write.hpp"
#include "policy/error.hpp"
#include "runner/daemon_heartbeat.hpp"
#include "runner/queue.hpp"
#include "runner/response_wait.hpp"
#include "runner/state_dir.hpp"
#include "tests/support/process.hpp"

using aj::runner::Queue;
using aj::runner::Request;
using aj::runner::StateDir;
using aj::runner::WakeBy;

namespace {

class ResponseWait : public testing::TestWithParam<WakeBy> {
protected:
    aj::test::TempDir tmp;
    StateDir state{tmp.path() + "/state"};
    Queue queue{state.queue()};

    // A heartbeat naming this (live) process: a daemon serves.
    void beat() const {
        aj::sys::write_file_atomic(aj::runner::heartbeat_path(state),
                                   nlohmann::json{{"pid", ::getpid()}}.dump() + "\n", 0600);
    }
    std::string submit() const {
        Request req;
        req.plugin = "acme.x";
        return queue.submit(req);
    }
};

TEST_P(ResponseWait, ReturnsTheAnswerWrittenWhileWaiting) {
    beat();
    const std::string name = submit();
    std::thread daemon([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        ASSERT_EQ(queue.claim(name), Queue::Claim::Claimed);
        queue.answer_error(name, "answered by the test");
    });
    const Queue::Response resp =
        aj::runner::wait_for_response(state, queue, name, 60, std::chrono::seconds(10), GetParam());
    daemon.join();
    EXPECT_TRUE(resp.is_error);
    EXPECT_EQ(resp.body.value("error", ""), "answered by the test");
}

TEST_P(ResponseWait, AnAnswerAlreadyThereIsReturnedAtOnce) {
    beat();
    const std::string name = submit();
    ASSERT_EQ(queue.claim(name), Queue::Claim::Claimed);
    queue.answer_result(name, nlohmann::json{{"rc", 7}});
    const Queue::Response resp =
        aj::runner::wait_for_response(state, queue, name, 60, std::chrono::seconds(10), GetParam());
    EXPECT_FALSE(resp.is_error);
    EXPECT_EQ(resp.body.value("rc", -1), 7);
}

TEST_P(ResponseWait, NoDaemonEndsTheWait) {
    const std::string name = submit();  // and no heartbeat at all
    try {
        aj::runner::wait_for_response(state, queue, name, 60, std::chrono::seconds(0), GetParam());
        FAIL() << "waited for a daemon that does not exist";
    } catch (const aj::Error& e) {
        EXPECT_NE(std::string(e.what()).find("nobody serves it"), std::string::npos) << e.what();
    }
}

TEST_P(ResponseWait, WaitTimeoutEndsTheWait) {
    beat();
    const std::string name = submit();
    try {
        aj::runner::wait_for_response(state, queue, name, 1, std::chrono::seconds(10), GetParam());
        FAIL() << "no answer was written";
    } catch (const aj::Error& e) {
        EXPECT_NE(std::string(e.what()).find("--wait-timeout"), std::string::npos) << e.what();
    }
}

INSTANTIATE_TEST_SUITE_P(Wake, ResponseWait, testing::Values(WakeBy::Inotify, WakeBy::Polling),
                         [](const testing::TestParamInfo<WakeBy>& param) {
                             return param.param == WakeBy::Inotify ? "Inotify" : "Polling";
                         });

}  // namespace
