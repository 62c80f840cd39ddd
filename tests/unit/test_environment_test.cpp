// ctest gives every discovered test all of the variables tests/CMakeLists.txt sets: a
// list-escaping bug in how they reached gtest_discover_tests once kept only the first
// (AJ_BIN), and tests fell back to guessing paths from __FILE__.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace {

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

TEST(TestEnvironment, SourceDirNamesTheSourceTree) {
    const std::string src = env("AJ_SOURCE_DIR");
    ASSERT_FALSE(src.empty()) << "AJ_SOURCE_DIR did not reach the test";
    EXPECT_TRUE(std::filesystem::is_regular_file(src + "/CMakeLists.txt")) << src;
    EXPECT_TRUE(std::filesystem::is_regular_file(src + "/tests/CMakeLists.txt")) << src;
}

TEST(TestEnvironment, TestDirAndBinaryArrive) {
    const std::string test_dir = env("AJ_TEST_DIR"), bin = env("AJ_BIN");
    ASSERT_FALSE(test_dir.empty()) << "AJ_TEST_DIR did not reach the test";
    EXPECT_TRUE(std::filesystem::is_directory(test_dir)) << test_dir;
    ASSERT_FALSE(bin.empty()) << "AJ_BIN did not reach the test";
    EXPECT_EQ(::access(bin.c_str(), X_OK), 0) << bin;
}

}  // namespace
