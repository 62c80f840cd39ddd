// The config's hooks (oci/hooks.hpp): what is accepted, what is refused by name, and that
// a hook runs as runc runs one: in order, the state on its stdin, its own args and env
// only, killed at its timeout, a failure naming it and what it wrote.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "oci/hooks.hpp"
#include "policy/error.hpp"
#include "tests/support/process.hpp"

namespace aj::oci {
namespace {

using nlohmann::json;

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string refusal(const json& hooks) {
    try {
        parse_hooks(hooks);
    } catch (const Error& e) {
        return e.what();
    }
    return "(accepted)";
}

json sh_hook(const std::string& script) { return {{"path", "/bin/sh"}, {"args", {"sh", "-c", script}}}; }

TEST(OciHooks, ParsedFieldByFieldAndKeptAsTheyWere) {
    const json config{{"prestart", {sh_hook("true")}},
                      {"createRuntime", {{{"path", "/bin/true"}, {"env", {"A=1"}}, {"timeout", 5}}}},
                      {"poststart", json::array()},
                      {"poststop", {sh_hook("exit 0")}},
                      {"createContainer", json::array()}};
    const Hooks h = parse_hooks(config);
    ASSERT_EQ(h.prestart.size(), 1u);
    EXPECT_EQ(h.prestart[0].args, (std::vector<std::string>{"sh", "-c", "true"}));
    ASSERT_EQ(h.create_runtime.size(), 1u);
    EXPECT_EQ(h.create_runtime[0].env, std::vector<std::string>{"A=1"});
    EXPECT_EQ(h.create_runtime[0].timeout_sec, 5);
    EXPECT_TRUE(h.poststart.empty());
    EXPECT_EQ(h.poststop.size(), 1u);
    // What the state directory keeps reads back the same.
    EXPECT_EQ(to_json(parse_hooks(to_json(h))), to_json(h));
}

TEST(OciHooks, WhatCannotBeRunAsAskedIsRefusedByName) {
    EXPECT_NE(refusal({{"prestart", {{{"path", "bin/true"}}}}}).find("hooks.prestart[0].path: bin/true is not an absolute"),
              std::string::npos);
    EXPECT_NE(refusal({{"poststop", {{{"args", {"true"}}}}}}).find("hooks.poststop[0].path: missing"), std::string::npos);
    EXPECT_NE(refusal({{"prestart", {{{"path", "/bin/true"}, {"timeout", 0}}}}}).find("hooks.prestart[0].timeout"),
              std::string::npos);
    EXPECT_NE(refusal({{"prestart", {{{"path", "/bin/true"}, {"env", {"NOEQUALS"}}}}}}).find("not NAME=VALUE"),
              std::string::npos);
    EXPECT_NE(refusal({{"prestart", {{{"path", "/bin/true"}, {"user", 0}}}}}).find("hooks.prestart[0].user"),
              std::string::npos);
    EXPECT_NE(refusal({{"createContainer", {sh_hook("true")}}}).find("hooks.createContainer: not supported yet"),
              std::string::npos);
    EXPECT_NE(refusal({{"startContainer", {sh_hook("true")}}}).find("hooks.startContainer"), std::string::npos);
    EXPECT_NE(refusal({{"prestop", {sh_hook("true")}}}).find("hooks.prestop: not a kind of hook"), std::string::npos);
}

TEST(OciHooks, RunInOrderWithTheStateOnStdinAndOnlyTheirOwnEnvironment) {
    test::TempDir dir;
    const std::string out = dir.path() + "/out";
    json first = sh_hook("cat > " + dir.path() + "/stdin; echo \"first ${A-unset} ${HOME-unset}\" >> " + out);
    first["env"] = {"A=from-hook"};
    const Hooks h = parse_hooks({{"prestart", {first, sh_hook("echo second >> " + out)}}});
    const json state{{"ociVersion", "1.0.2"}, {"id", "c"}, {"status", "created"}, {"pid", 42}, {"bundle", "/b"}};
    run_hooks("prestart", h.prestart, state);
    EXPECT_EQ(slurp(out), "first from-hook unset\nsecond\n");
    EXPECT_EQ(json::parse(slurp(dir.path() + "/stdin")), state);
}

TEST(OciHooks, AFailureNamesTheHookAndStopsTheRest) {
    test::TempDir dir;
    const Hooks h = parse_hooks(
        {{"poststop", {sh_hook("echo oops; echo why >&2; exit 3"), sh_hook("touch " + dir.path() + "/ran")}}});
    try {
        run_hooks("poststop", h.poststop, json::object());
        ADD_FAILURE() << "a failing hook passed";
    } catch (const Error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("poststop hook /bin/sh: exit status 3; output: oops\nwhy"), std::string::npos) << what;
    }
    EXPECT_FALSE(std::filesystem::exists(dir.path() + "/ran"));
    const Hooks missing = parse_hooks({{"prestart", {{{"path", dir.path() + "/no-such-hook"}}}}});
    try {
        run_hooks("prestart", missing.prestart, json::object());
        ADD_FAILURE() << "a hook that cannot start passed";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("exit status 127; output: execve"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("ENOENT"), std::string::npos) << e.what();
    }
}

TEST(OciHooks, AHookIsKilledAtItsTimeout) {
    json slow = sh_hook("echo started; exec sleep 30");
    slow["timeout"] = 1;
    const Hooks h = parse_hooks({{"poststart", {slow}}});
    try {
        run_hooks("poststart", h.poststart, json::object());
        ADD_FAILURE() << "a hook past its timeout passed";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("poststart hook /bin/sh: timed out after 1 s; output: started"),
                  std::string::npos)
            << e.what();
    }
}

}  // namespace
}  // namespace aj::oci
