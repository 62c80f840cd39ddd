// The default policy's system view, in a real sandbox: the visible /etc is exactly the
// documented list (docs/policy.md, "system_view"), the sandbox user has a name, and the
// written files cannot be changed from inside.
#include <sys/stat.h>

#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "helper/system_view.hpp"
#include "policy/sys.hpp"
#include "tests/support/jail.hpp"

namespace aj::test {
namespace {

std::set<std::string> words(const std::string& text) {
    std::set<std::string> out;
    std::istringstream in(text);
    for (std::string w; in >> w;) out.insert(w);
    return out;
}

std::string joined(const std::set<std::string>& s) {
    std::string out;
    for (const auto& w : s) out += w + " ";
    return out;
}

// The names directly below `dir` ("/etc", "/etc/ssl") the view shows on this host.
std::set<std::string> expected_below(const std::string& dir, policy::NetworkMode network) {
    std::set<std::string> out;
    for (const std::string& path : helper::system_view_host_paths(network)) {
        if (!path.starts_with(dir + "/")) continue;
        const std::string rest = path.substr(dir.size() + 1);
        out.insert(rest.substr(0, rest.find('/')));
    }
    if (dir == "/etc") {
        for (const char* f : {"passwd", "group", "hostname"}) out.insert(f);
        if (network == policy::NetworkMode::None) out.insert("hosts");
    }
    return out;
}

TEST(SystemView, VisibleEtcIsExactlyTheList) {
    auto r = run_aj({"run", "--", "/bin/sh", "-c", "ls -A /etc; echo ==; ls -A /etc/ssl; echo ==; ls -A /etc/ssh"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto parts_at = r.out.find("==\n");
    const auto second = r.out.find("==\n", parts_at + 3);
    ASSERT_NE(second, std::string::npos) << r.out;
    const auto etc = words(r.out.substr(0, parts_at));
    const auto ssl = words(r.out.substr(parts_at + 3, second - parts_at - 3));
    const auto ssh = words(r.out.substr(second + 3));
    EXPECT_EQ(joined(etc), joined(expected_below("/etc", policy::NetworkMode::None)));
    EXPECT_EQ(joined(ssl), joined(expected_below("/etc/ssl", policy::NetworkMode::None)));
    EXPECT_EQ(joined(ssh), joined(expected_below("/etc/ssh", policy::NetworkMode::None)));
    for (const char* secret : {"shadow", "gshadow", "sudoers", "machine-id", "gitconfig"})
        EXPECT_EQ(etc.count(secret), 0u) << secret;
    EXPECT_EQ(ssl.count("private"), 0u);
}

// The small files PID 1 copies from the host's /etc (sendfile, no bind) hold exactly the
// host's bytes inside.
TEST(SystemView, CopiedFilesHoldTheHostsBytes) {
    std::string script;
    std::string expected;
    for (const auto& e : helper::system_view_host_stats(policy::NetworkMode::None)) {
        if (!S_ISREG(e.st.st_mode) || !(e.st.st_mode & S_IROTH) || e.st.st_size > 4096) continue;
        script += "cat " + e.path + "; echo '<>'; ";
        expected += sys::read_file(e.path) + "<>\n";
    }
    if (script.empty()) GTEST_SKIP() << "this host's /etc has no small world-readable file the view shows";
    auto r = run_aj({"run", "--", "/bin/sh", "-c", script});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, expected);
}

TEST(SystemView, TheSandboxUserHasANameAndAHome) {
    const std::string script =
        "whoami; id -gn; getent passwd $(id -u) | cut -d: -f1,6; cat /etc/hostname; "
        "getent hosts aurora-jail | cut -d' ' -f1";
    auto r = run_aj({"run", "--", "/bin/sh", "-c", script});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "sandbox\nsandbox\nsandbox:/tmp\naurora-jail\n127.0.1.1\n") << r.err;
}

TEST(SystemView, WrittenFilesAndViewAreReadOnly) {
    const std::string script =
        "for f in /etc/passwd /etc/hostname /etc/ld.so.cache /etc/newfile; do "
        "(echo x >> $f) 2>/dev/null && echo WROTE $f; done; echo done";
    auto r = run_aj({"run", "--", "/bin/sh", "-c", script});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "done\n");
}

TEST(SystemView, OffInAPolicyLeavesNoEtc) {
    TempDir dir;
    auto policy = write_policy(dir, {{"system_view", false}});
    auto r = run_aj(sh_args(policy, "ls -A /etc 2>&1; whoami 2>&1; echo end"));
    EXPECT_EQ(r.out.find("passwd"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("sandbox"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("end"), std::string::npos) << r.err;
}

// Each bind source is an anonymous mount namespace until attached: with the sandbox's
// max_mnt_namespaces quota (16) set before the root was built, a policy of more than
// about nine binds failed with ENOSPC. The quota now comes after the root.
TEST(SystemView, ManyBindsFitUnderTheNamespaceQuota) {
    TempDir dir;
    nlohmann::json paths = nlohmann::json::array();
    for (int i = 0; i < 24; ++i) {
        dir.write("d" + std::to_string(i) + "/f", "x");
        paths.push_back(dir.path() + "/d" + std::to_string(i));
    }
    auto policy = write_policy(dir, {{"allowed_paths", paths}});
    auto r = run_aj(sh_args(policy, "cat " + dir.path() + "/d23/f; cat /proc/sys/user/max_mnt_namespaces"));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "x16\n") << r.err;  // the quota still holds once the command runs
}

}  // namespace
}  // namespace aj::test
