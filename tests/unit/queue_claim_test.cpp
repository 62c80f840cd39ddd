// The request queue as a library, on a real directory: parsing, claim by rename,
// responses written before unclaiming, and the crash rule.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <string>

#include "policy/error.hpp"
#include "runner/queue.hpp"
#include "runner/state_dir.hpp"
#include "tests/support/process.hpp"

namespace fs = std::filesystem;
using aj::runner::parse_request;
using aj::runner::Queue;
using aj::runner::Request;
using aj::runner::StateDir;
using aj::test::TempDir;

namespace {

struct Fixture {
    TempDir tmp;
    StateDir state{tmp.path() + "/state"};
    Queue queue{state.queue()};
    std::string req_dir = state.queue() + "/requests";
    std::string claimed_dir = state.queue() + "/claimed";
    std::string resp_dir = state.queue() + "/responses";

    std::size_t count(const std::string& dir) const {
        std::size_t n = 0;
        for (const auto& e : fs::directory_iterator(dir)) {
            (void)e;
            ++n;
        }
        return n;
    }
};

std::string parse_error(const std::string& text) {
    try {
        parse_request(text);
    } catch (const aj::Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(QueueTest, ParsesThePrototypeFormat) {
    Request r = parse_request(R"({"plugin":"acme.testpkg","cmd":"sh run.sh","timeout":5})");
    EXPECT_EQ(r.plugin, "acme.testpkg");
    EXPECT_EQ(r.argv, (std::vector<std::string>{"/bin/sh", "-c", "sh run.sh"}));
    EXPECT_EQ(r.timeout_sec, 5u);
    Request a = parse_request(R"({"plugin":"p","cmd":["/bin/echo","x"]})");
    EXPECT_EQ(a.argv, (std::vector<std::string>{"/bin/echo", "x"}));
    EXPECT_EQ(a.timeout_sec, aj::runner::kDefaultRequestTimeoutSec);
    Request e = parse_request(R"({"plugin":"p","timeout":0.5})");
    EXPECT_FALSE(e.argv);
    EXPECT_EQ(e.timeout_sec, 1u);
    EXPECT_EQ(parse_request(aj::runner::to_json(r).dump()).argv, r.argv);
}

TEST(QueueTest, RefusesMalformedRequests) {
    EXPECT_NE(parse_error("garbage\x01\x02").find("not valid JSON"), std::string::npos);
    EXPECT_NE(parse_error("[]").find("expected a JSON object"), std::string::npos);
    EXPECT_NE(parse_error(R"({"cmd":"x"})").find("missing \"plugin\""), std::string::npos);
    EXPECT_NE(parse_error(R"({"plugin":"../x","cmd":"x"})").find("safe plugin id"), std::string::npos);
    EXPECT_NE(parse_error(R"({"plugin":7})").find("must be a string"), std::string::npos);
    EXPECT_NE(parse_error(R"({"plugin":"p","cmd":""})").find("must not be empty"), std::string::npos);
    EXPECT_NE(parse_error(R"({"plugin":"p","cmd":[]})").find("must not be empty"), std::string::npos);
    EXPECT_NE(parse_error(R"({"plugin":"p","cmd":[1]})").find("must be strings"), std::string::npos);
    EXPECT_NE(parse_error(R"({"plugin":"p","cmd":{}})").find("string or an array"), std::string::npos);
    EXPECT_NE(parse_error(R"({"plugin":"p","timeout":-1})").find("timeout"), std::string::npos);
    EXPECT_NE(parse_error(R"({"plugin":"p","timeout":"5"})").find("timeout"), std::string::npos);
    EXPECT_NE(parse_error(R"({"plugin":"p","timeout":1e12})").find("timeout"), std::string::npos);
    EXPECT_NE(parse_error(R"({"plugin":"p","extra":1})").find("unknown field \"extra\""), std::string::npos);
    EXPECT_NE(parse_error(R"({"plugin":"p","cmd":"a\u0000b"})").find("NUL"), std::string::npos);
    EXPECT_NE(parse_error(std::string(70000, ' ')).find("too large"), std::string::npos);
}

TEST(QueueTest, SubmitClaimAnswerExactlyOnce) {
    Fixture f;
    Request r = parse_request(R"({"plugin":"p","cmd":"true"})");
    std::set<std::string> names;
    for (int i = 0; i < 20; ++i) names.insert(f.queue.submit(r));
    ASSERT_EQ(names.size(), 20u);  // unique names
    EXPECT_EQ(f.count(f.req_dir), 20u);  // no temp files left behind

    auto scanned = f.queue.scan(8);
    ASSERT_EQ(scanned.size(), 8u);
    EXPECT_TRUE(std::is_sorted(scanned.begin(), scanned.end()));
    for (const auto& name : f.queue.scan(100)) {
        ASSERT_EQ(f.queue.claim(name), Queue::Claim::Claimed);
        // A second claimer finds nothing: only the renamer owns it.
        EXPECT_EQ(f.queue.claim(name), Queue::Claim::Gone);
        EXPECT_EQ(parse_request(f.queue.read_claimed(name)).plugin, "p");
        f.queue.answer_result(name, {{"rc", 0}, {"stdout", "x"}});
        EXPECT_EQ(f.queue.claim(name), Queue::Claim::Gone);
    }
    EXPECT_EQ(f.count(f.req_dir), 0u);
    EXPECT_EQ(f.count(f.claimed_dir), 0u);
    EXPECT_EQ(f.count(f.resp_dir), 20u);
    for (const auto& name : names) {
        auto resp = f.queue.find_response(name);
        ASSERT_TRUE(resp);
        EXPECT_FALSE(resp->is_error);
        EXPECT_EQ(resp->body["request"], name);
        EXPECT_EQ(resp->body["rc"], 0);
    }
}

TEST(QueueTest, ReusedNameIsNotAnsweredTwice) {
    Fixture f;
    std::string name = f.queue.submit(parse_request(R"({"plugin":"p"})"));
    ASSERT_EQ(f.queue.claim(name), Queue::Claim::Claimed);
    // The same name submitted again while the first is in progress: it must not clobber
    // the claimed one, and once the first is answered it is dropped, not answered again.
    fs::copy_file(f.claimed_dir + "/" + name + ".json", f.req_dir + "/" + name + ".json");
    EXPECT_EQ(f.queue.claim(name), Queue::Claim::Gone);
    EXPECT_TRUE(fs::exists(f.req_dir + "/" + name + ".json"));
    f.queue.answer_error(name, "unknown plugin p");
    EXPECT_EQ(f.queue.claim(name), Queue::Claim::AlreadyAnswered);
    EXPECT_EQ(f.count(f.req_dir), 0u);
    EXPECT_EQ(f.count(f.resp_dir), 1u);
}

// The daemon's path: the claim's sync comes later (before the command runs), and so does
// the unclaim (after one sync for many responses). Killed in between, the next start
// finds claim + response and counts the request as answered, never running it again.
TEST(QueueTest, LaterSyncAndUnclaimKeepTheCrashRule) {
    Fixture f;
    Request r = parse_request(R"({"plugin":"p"})");
    const std::string first = f.queue.submit(r), second = f.queue.submit(r);
    ASSERT_EQ(f.queue.claim(first, nullptr, Queue::Sync::Later), Queue::Claim::Claimed);
    ASSERT_EQ(f.queue.claim(second, nullptr, Queue::Sync::Later), Queue::Claim::Claimed);
    f.queue.sync_claims();
    f.queue.answer_result(first, {{"rc", 0}}, aj::runner::RequestLayout::Native, Queue::Unclaim::Later);
    f.queue.answer_error(second, "refused", Queue::Unclaim::Later);
    // Answered (a client can read both) and still claimed until unclaim_answered().
    EXPECT_TRUE(f.queue.find_response(first));
    EXPECT_TRUE(f.queue.find_response(second));
    EXPECT_EQ(f.count(f.claimed_dir), 2u);
    f.queue.unclaim_answered({first});
    EXPECT_EQ(f.count(f.claimed_dir), 1u);
    // The daemon dies before the second's unclaim: the next start removes the claim and
    // leaves its answer as it was.
    auto rec = f.queue.recover();
    EXPECT_EQ(rec.interrupted, 0u);
    EXPECT_EQ(rec.already_answered, 1u);
    EXPECT_EQ(f.count(f.claimed_dir), 0u);
    auto resp = f.queue.find_response(second);
    ASSERT_TRUE(resp);
    EXPECT_EQ(resp->body["error"], "refused");
    EXPECT_EQ(f.count(f.resp_dir), 2u);
}

TEST(QueueTest, CrashRuleAnswersInterruptedAndRemovesAnswered) {
    Fixture f;
    Request r = parse_request(R"({"plugin":"p","cmd":"true"})");
    std::string running = f.queue.submit(r);   // claimed, daemon died mid-run
    std::string answered = f.queue.submit(r);  // response written, died before unclaiming
    std::string waiting = f.queue.submit(r);   // never claimed
    ASSERT_EQ(f.queue.claim(running), Queue::Claim::Claimed);
    ASSERT_EQ(f.queue.claim(answered), Queue::Claim::Claimed);
    fs::copy_file(f.claimed_dir + "/" + answered + ".json", f.tmp.path() + "/saved.json");
    f.queue.answer_result(answered, {{"rc", 3}});
    fs::copy_file(f.tmp.path() + "/saved.json", f.claimed_dir + "/" + answered + ".json");
    // A temp response file of a write interrupted before its rename.
    f.tmp.write("state/queue/responses/." + running + ".result.json.tmp-abc", "{partial");

    auto rec = f.queue.recover();
    EXPECT_EQ(rec.interrupted, 1u);
    EXPECT_EQ(rec.already_answered, 1u);
    EXPECT_EQ(f.count(f.claimed_dir), 0u);
    auto r1 = f.queue.find_response(running);
    ASSERT_TRUE(r1);
    EXPECT_TRUE(r1->is_error);
    EXPECT_EQ(r1->body["error"], aj::runner::kInterruptedReason);
    auto r2 = f.queue.find_response(answered);
    ASSERT_TRUE(r2);
    EXPECT_FALSE(r2->is_error);
    EXPECT_EQ(r2->body["rc"], 3);  // the real answer stands
    EXPECT_FALSE(f.queue.find_response(waiting));
    EXPECT_EQ(f.queue.scan(10), std::vector<std::string>{waiting});
    EXPECT_EQ(f.count(f.resp_dir), 2u);  // temp file gone
    // Recovery again is a no-op.
    rec = f.queue.recover();
    EXPECT_EQ(rec.interrupted + rec.already_answered, 0u);
}

TEST(QueueTest, ReadClaimedRefusesOddFiles) {
    Fixture f;
    f.tmp.write("state/queue/requests/big.json", std::string(aj::runner::kMaxRequestBytes + 1, ' '));
    ASSERT_EQ(::symlink("/etc/passwd", (f.req_dir + "/link.json").c_str()), 0);
    ::mkfifo((f.req_dir + "/fifo.json").c_str(), 0600);
    fs::create_directory(f.req_dir + "/dir.json");
    f.tmp.write("state/queue/requests/bad name.json", "{}");
    f.tmp.write("state/queue/requests/.hidden.json", "{}");
    f.tmp.write("state/queue/requests/notes.txt", "{}");
    f.tmp.write("state/queue/requests/" + std::string(220, 'x') + ".json", "{}");
    auto names = f.queue.scan(100);
    EXPECT_EQ(names.size(), 7u);  // not the dot file; the .txt is there to be answered
    for (const auto& name : names) {
        aj::runner::RequestLayout layout{};
        auto claim = f.queue.claim(name, &layout);
        if (name.size() > 200) {
            EXPECT_EQ(claim, Queue::Claim::Gone);  // unanswerable: removed
            continue;
        }
        ASSERT_EQ(claim, Queue::Claim::Claimed) << name;
        if (name == "notes.txt") {
            EXPECT_EQ(layout, aj::runner::RequestLayout::NotARequest);
            f.queue.answer_error(name, "not a request");
            continue;
        }
        EXPECT_EQ(layout, aj::runner::RequestLayout::Native) << name;
        std::string reason;
        try {
            f.queue.read_claimed(name);
        } catch (const aj::Error& e) {
            reason = e.what();
        }
        EXPECT_FALSE(reason.empty()) << name;
        f.queue.answer_error(name, reason);
    }
    EXPECT_EQ(f.count(f.claimed_dir), 0u);
    EXPECT_EQ(f.count(f.resp_dir), 6u);
    EXPECT_TRUE(fs::exists(f.resp_dir + "/notes.txt.error.json"));
    EXPECT_NE(f.queue.find_response("big")->body["error"].get<std::string>().find("too large"), std::string::npos);
    EXPECT_NE(f.queue.find_response("link")->body["error"].get<std::string>().find("symlink"), std::string::npos);
    EXPECT_NE(f.queue.find_response("fifo")->body["error"].get<std::string>().find("regular"), std::string::npos);
    EXPECT_TRUE(fs::exists("/etc/passwd"));
}

TEST(QueueTest, InvalidUtf8OutputStillMakesValidJson) {
    Fixture f;
    std::string name = f.queue.submit(parse_request(R"({"plugin":"p"})"));
    ASSERT_EQ(f.queue.claim(name), Queue::Claim::Claimed);
    f.queue.answer_result(name, {{"stdout", std::string("bad \xff\xfe utf8")}});
    auto resp = f.queue.find_response(name);
    ASSERT_TRUE(resp);
    EXPECT_NE(resp->body["stdout"].get<std::string>().find("bad "), std::string::npos);
}

TEST(QueueTest, PrototypeReqFilesAndTheirLayouts) {
    Fixture f;
    f.tmp.write("state/queue/requests/acme.testpkg-1700000000000.req",
                R"({"plugin":"acme.testpkg","cmd":"sh run.sh","timeout":5})");
    f.tmp.write("state/queue/requests/fresh-empty.req", "");  // a prototype client mid-write
    Request plain;
    plain.plugin = "p";
    std::string native = f.queue.submit(plain);
    auto names = f.queue.scan(10);
    EXPECT_EQ(names, (std::vector<std::string>{"acme.testpkg-1700000000000.req", native}));

    aj::runner::RequestLayout layout{};
    ASSERT_EQ(f.queue.claim("acme.testpkg-1700000000000.req", &layout), Queue::Claim::Claimed);
    EXPECT_EQ(layout, aj::runner::RequestLayout::Prototype);
    EXPECT_TRUE(fs::exists(f.claimed_dir + "/acme.testpkg-1700000000000.req.json"));  // one claimed/ naming
    Request r = parse_request(f.queue.read_claimed("acme.testpkg-1700000000000.req"));
    EXPECT_EQ(r.argv, (std::vector<std::string>{"/bin/sh", "-c", "sh run.sh"}));
    f.queue.answer_result("acme.testpkg-1700000000000.req", {{"rc", 0}, {"stdout", "hello-sandbox\n"}, {"stderr", ""}},
                          layout);
    auto resp = f.queue.find_response("acme.testpkg-1700000000000.req");
    ASSERT_TRUE(resp);
    EXPECT_FALSE(resp->is_error);
    EXPECT_EQ(resp->body["req"], "acme.testpkg-1700000000000.req");
    EXPECT_EQ(resp->body["result"]["rc"], 0);
    EXPECT_EQ(resp->body["result"]["stdout"], "hello-sandbox\n");
    EXPECT_TRUE(resp->body["result"]["ts"].is_number());
    EXPECT_TRUE(fs::exists(f.resp_dir + "/acme.testpkg-1700000000000.req.result.json"));

    ASSERT_EQ(f.queue.claim(native, &layout), Queue::Claim::Claimed);
    EXPECT_EQ(layout, aj::runner::RequestLayout::Native);
    f.queue.answer_result(native, {{"rc", 1}}, layout);
    EXPECT_EQ(f.queue.find_response(native)->body["rc"], 1);  // flat, as before
    EXPECT_EQ(f.queue.find_response(native)->body["request"], native);
    // The partial .req stays queued until it is written or old enough.
    EXPECT_TRUE(fs::exists(f.req_dir + "/fresh-empty.req"));
}

TEST(QueueTest, MemoryAndExplicitTimeoutAreParsed) {
    Request r = parse_request(R"({"plugin":"p","cmd":"true","memory_mb":64})");
    EXPECT_EQ(r.memory_mb, 64u);
    EXPECT_FALSE(r.timeout_given);
    EXPECT_TRUE(parse_request(R"({"plugin":"p","timeout":3})").timeout_given);
    EXPECT_NE(parse_error(R"({"plugin":"p","memory_mb":0})").find("memory_mb"), std::string::npos);
    EXPECT_NE(parse_error(R"({"plugin":"p","memory_mb":1.5})").find("memory_mb"), std::string::npos);
    EXPECT_NE(parse_error(R"({"plugin":"p","memory_mb":-3})").find("memory_mb"), std::string::npos);
    // A request written without a timeout is re-read without one (the policy caps the default).
    EXPECT_FALSE(parse_request(aj::runner::dump_json(aj::runner::to_json(r))).timeout_given);
}
