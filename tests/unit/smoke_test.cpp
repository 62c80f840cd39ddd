#include <gtest/gtest.h>
#include "tests/support/process.hpp"
TEST(Cli, VersionPrintsName) {
    auto r = aj::test::run_aj({"--version"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("aurora-jail 0.1.0"), std::string::npos);
}
TEST(Cli, UnknownSubcommandIs125) {
    auto r = aj::test::run_aj({"frobnicate"});
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_EQ(r.err.rfind("aurora-jail: ", 0), 0u) << r.err;
}
