// Manifest validation: every kind of bad input is refused with a message naming the field.
#include <gtest/gtest.h>

#include <string>

#include "policy/error.hpp"
#include "runner/manifest.hpp"

using aj::runner::is_safe_name;
using aj::runner::is_safe_relative_path;
using aj::runner::Manifest;
using aj::runner::parse_manifest;

namespace {

std::string error_of(const std::string& text) {
    try {
        parse_manifest(text, "m.json");
    } catch (const aj::Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(ManifestTest, AcceptsThePrototypeManifest) {
    Manifest m = parse_manifest(
        R"({"id":"acme.testpkg","name":"T","version":"0.1.0","entrypoint":"run.sh"})", "m.json");
    EXPECT_EQ(m.id, "acme.testpkg");
    EXPECT_EQ(m.version, "0.1.0");
    ASSERT_TRUE(m.entry_path);
    EXPECT_EQ(*m.entry_path, "run.sh");
    EXPECT_EQ(entry_command(m), std::vector<std::string>{"/plugin/run.sh"});
    EXPECT_FALSE(m.policy);
}

TEST(ManifestTest, AcceptsArgvEntrypointAndPolicy) {
    Manifest m = parse_manifest(
        R"({"id":"p1","name":"n","version":"1","entrypoint":["/bin/sh","-c","echo hi"],"policy":"strict","description":"d"})",
        "m.json");
    EXPECT_EQ(m.entry_argv, (std::vector<std::string>{"/bin/sh", "-c", "echo hi"}));
    EXPECT_EQ(m.policy, std::optional<std::string>("strict"));
    EXPECT_EQ(parse_manifest(to_json(m).dump(), "again"), m);
}

TEST(ManifestTest, RejectsUnsafeIds) {
    for (const std::string& id : std::vector<std::string>{"../x", "a/b", "", ".hidden", "..", ".", "a..b", "-x", "a b",
                                 "x\\u0000y", "tab\\tid", std::string(65, 'a'), "caf\\u00e9"}) {
        std::string text = R"({"id":")" + id + R"(","name":"n","version":"1","entrypoint":"r"})";
        std::string err = error_of(text);
        EXPECT_NE(err.find("/id"), std::string::npos) << "id=" << id << " err=" << err;
    }
    EXPECT_TRUE(is_safe_name("acme.testpkg"));
    EXPECT_TRUE(is_safe_name("A-1_b.c"));
    EXPECT_TRUE(is_safe_name(std::string(64, 'a')));
    EXPECT_FALSE(is_safe_name(std::string("a\0b", 3)));
}

TEST(ManifestTest, RejectsMissingFields) {
    for (const char* field : {"id", "name", "version", "entrypoint"}) {
        nlohmann::json j{{"id", "p"}, {"name", "n"}, {"version", "1"}, {"entrypoint", "r"}};
        j.erase(field);
        std::string err = error_of(j.dump());
        EXPECT_NE(err.find(std::string("/") + field + ": missing"), std::string::npos) << err;
    }
}

TEST(ManifestTest, RejectsWrongTypes) {
    EXPECT_NE(error_of(R"({"id":1,"name":"n","version":"1","entrypoint":"r"})").find("/id: expected a string"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"id":"p","name":["n"],"version":"1","entrypoint":"r"})").find("/name"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"id":"p","name":"n","version":1.5,"entrypoint":"r"})").find("/version"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"id":"p","name":"n","version":"1","entrypoint":5})").find("/entrypoint"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"id":"p","name":"n","version":"1","entrypoint":["/bin/sh",3]})").find("/entrypoint/1"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"id":"p","name":"n","version":"1","entrypoint":[]})").find("/entrypoint"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"id":"p","name":"n","version":"1","entrypoint":"r","policy":"../etc"})").find("/policy"),
              std::string::npos);
    EXPECT_NE(error_of(R"([1,2])").find("expected an object"), std::string::npos);
    EXPECT_NE(error_of("{not json").find("not valid JSON"), std::string::npos);
    // A trailing comma (the usual hand-editing slip) is located: line and column.
    EXPECT_NE(error_of("{\"id\": \"p\",\n \"name\": \"n\",\n}").find("not valid JSON at line 3, column 1:"),
              std::string::npos)
        << error_of("{\"id\": \"p\",\n \"name\": \"n\",\n}");
    EXPECT_NE(error_of(R"({"id":"p","name":"n","version":"1","entrypoint":"r","extra":1})").find("/extra: unknown key"),
              std::string::npos);
}

TEST(ManifestTest, RejectsEntrypointPathsLeavingThePackage) {
    for (const char* path : {"../run.sh", "/bin/sh", "a/../../b", "./run.sh", "a//b", "", "a/"}) {
        nlohmann::json j{{"id", "p"}, {"name", "n"}, {"version", "1"}, {"entrypoint", path}};
        EXPECT_NE(error_of(j.dump()).find("/entrypoint"), std::string::npos) << path;
    }
    EXPECT_TRUE(is_safe_relative_path("bin/run.sh"));
    EXPECT_FALSE(is_safe_relative_path("bin/../run.sh"));
}

TEST(ManifestTest, RejectsOversizedManifest) {
    std::string big = R"({"id":"p","name":"n","version":"1","entrypoint":"r","description":")" +
                      std::string(70 * 1024, 'x') + "\"}";
    EXPECT_NE(error_of(big).find("larger than"), std::string::npos);
}
