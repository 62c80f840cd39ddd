// The policy parser: the prototype's files load unchanged, defaults are the hardened
// ones, to_json round-trips, and every kind of bad input is refused with its own line.
#include <gtest/gtest.h>

#include <string>

#include "policy/default_policy.hpp"
#include "policy/error.hpp"
#include "policy/parse.hpp"
#include "policy/store.hpp"
#include "tests/support/process.hpp"

namespace aj::policy {
namespace {

std::string data_file(const std::string& name) { return aj::test::source_path("tests/data/" + name); }

// The error message for `text`, or "" when it parses.
std::string error_of(const std::string& text) {
    try {
        parse_policy(text, "p.json");
    } catch (const Error& e) {
        EXPECT_EQ(e.exit_code(), kExitInternal);
        EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << "one line only";
        return e.what();
    }
    return "";
}

TEST(PolicyParse, PrototypeFlatPolicyLoadsUnchanged) {
    Policy p = load_policy_file(data_file("prototype.json"));
    ASSERT_EQ(p.allowed_paths.size(), 2u);
    EXPECT_EQ(p.allowed_paths[0], (PathRule{"/usr", PathMode::ReadOnly}));
    EXPECT_EQ(p.allowed_paths[1], (PathRule{"/lib", PathMode::ReadOnly}));
    EXPECT_EQ(p.blocked_syscalls, (std::vector<std::string>{"ptrace", "mount"}));
    EXPECT_EQ(p.limits.memory_mb, 256u);
    EXPECT_EQ(p.limits.cpu_sec, 10u);
    // Everything the prototype did not say keeps the hardened default.
    Policy d = default_policy();
    EXPECT_EQ(p.limits.pids, d.limits.pids);
    EXPECT_EQ(p.limits.timeout_sec, d.limits.timeout_sec);
    EXPECT_TRUE(p.default_deny);
    EXPECT_FALSE(p.allowed_syscalls.has_value());
}

TEST(PolicyParse, NullMeansNoLimit) {
    Policy p = load_policy_file(data_file("prototype_unlimited.json"));
    EXPECT_FALSE(p.limits.memory_mb.has_value());
    EXPECT_FALSE(p.limits.cpu_sec.has_value());
    EXPECT_EQ(p.blocked_syscalls, (std::vector<std::string>{"fork"}));
    Policy q = parse_policy(R"({"max_pids": null, "timeout_sec": null, "max_cpus": null})", "p.json");
    EXPECT_FALSE(q.limits.pids.has_value());
    EXPECT_FALSE(q.limits.timeout_sec.has_value());
    EXPECT_FALSE(q.limits.cpus.has_value());
}

TEST(PolicyParse, EmptyObjectIsTheHardenedDefault) {
    Policy p = parse_policy("{}", "p.json");
    EXPECT_EQ(p, default_policy());
    EXPECT_EQ(p.limits.memory_mb, 512u);
    EXPECT_EQ(p.limits.cpu_sec, 60u);
    EXPECT_EQ(p.limits.pids, 256u);
    EXPECT_EQ(p.limits.open_files, 1024u);
    EXPECT_EQ(p.limits.file_size_mb, 1024u);
    EXPECT_EQ(p.limits.tmpfs_mb, 64u);
    EXPECT_EQ(p.limits.disk_mb, 256u);  // a default run can never add a gigabyte to the host
    EXPECT_EQ(p.limits.files, 20000u);
    EXPECT_EQ(p.limits.timeout_sec, 300u);
    EXPECT_EQ(p.limits.cpus, std::optional<double>(1.0));  // one core of bandwidth
    EXPECT_EQ(p.network, NetworkMode::None);
    EXPECT_EQ(p.hostname, "aurora-jail");
    EXPECT_EQ(p.action, (SyscallAction{BlockedAction::Errno, EPERM}));
    EXPECT_TRUE(p.default_deny);
    EXPECT_TRUE(p.allow_fallback);
    EXPECT_EQ(p.env.pass, (std::vector<std::string>{"TERM", "LANG"}));
    EXPECT_EQ(p.env.set.at("PATH"), "/usr/local/bin:/usr/bin:/bin");
    EXPECT_EQ(p.env.set.at("HOME"), "/tmp");
    ASSERT_EQ(p.allowed_paths.size(), 5u);
    for (const auto& r : p.allowed_paths) EXPECT_EQ(r.mode, PathMode::ReadOnly) << r.path;
}

TEST(PolicyParse, FullPolicyReadsEveryField) {
    Policy p = load_policy_file(data_file("full.json"));
    ASSERT_EQ(p.allowed_paths.size(), 3u);
    EXPECT_EQ(p.allowed_paths[2], (PathRule{"/srv/plugin-out", PathMode::ReadWrite}));
    EXPECT_EQ(p.action, (SyscallAction{BlockedAction::Errno, EACCES}));
    EXPECT_EQ(p.limits.cpus, 0.5);
    EXPECT_EQ(p.limits.file_size_mb, 0u);
    EXPECT_EQ(p.hostname, "plugin-box.example");
    EXPECT_EQ(p.env.pass, (std::vector<std::string>{"TERM"}));
    EXPECT_EQ(p.env.set.at("LC_ALL"), "C.UTF-8");
    EXPECT_FALSE(p.allow_fallback);
    Policy a = load_policy_file(data_file("allowlist.json"));
    ASSERT_TRUE(a.allowed_syscalls.has_value());
    EXPECT_EQ(a.action.kind, BlockedAction::Kill);
}

TEST(PolicyParse, RoundTripThroughToJson) {
    for (const char* f : {"prototype.json", "prototype_unlimited.json", "full.json", "allowlist.json"}) {
        Policy p = load_policy_file(data_file(f));
        Policy q = parse_policy(to_json(p).dump(), "round-trip");
        EXPECT_EQ(p, q) << f;
        EXPECT_EQ(policy_sha256(p), policy_sha256(q)) << f;
    }
    Policy d = default_policy();
    EXPECT_EQ(parse_policy(to_json(d).dump(2), "round-trip"), d);
    Policy log = parse_policy(R"({"blocked_action": "log", "network": "host"})", "p.json");
    EXPECT_EQ(parse_policy(to_json(log).dump(), "rt"), log);
}

TEST(PolicyParse, HashIsOfMeaningNotSpelling) {
    Policy a = parse_policy(R"({"max_pids": 10, "allowed_paths": ["/usr"]})", "a");
    Policy b = parse_policy("{\n  \"allowed_paths\": [{\"path\": \"/usr\", \"mode\": \"ro\"}],\n  \"max_pids\": 10\n}", "b");
    EXPECT_EQ(policy_sha256(a), policy_sha256(b));
    EXPECT_EQ(policy_sha256(a).size(), 64u);
    Policy c = parse_policy(R"({"max_pids": 11, "allowed_paths": ["/usr"]})", "c");
    EXPECT_NE(policy_sha256(a), policy_sha256(c));
}

TEST(PolicyParse, ActionForms) {
    EXPECT_EQ(parse_policy(R"({"blocked_action": "kill"})", "p").action.kind, BlockedAction::Kill);
    EXPECT_EQ(parse_policy(R"({"blocked_action": "log"})", "p").action.kind, BlockedAction::Log);
    EXPECT_EQ(parse_policy(R"({"blocked_action": "errno"})", "p").action, (SyscallAction{BlockedAction::Errno, EPERM}));
    EXPECT_EQ(parse_policy(R"({"blocked_action": {"action": "errno", "errno": "ENOSYS"}})", "p").action,
              (SyscallAction{BlockedAction::Errno, ENOSYS}));
}

// ---- rejections: each asserts its own message ----

TEST(PolicyReject, UnknownKeySuggestsNearest) {
    EXPECT_EQ(error_of(R"({"max_memry_mb": 5})"), "p.json: /max_memry_mb: unknown key (did you mean max_memory_mb?)");
    EXPECT_EQ(error_of(R"({"zzzzzzzzzzzz": 5})"), "p.json: /zzzzzzzzzzzz: unknown key");
    EXPECT_EQ(error_of(R"({"allowed_paths": [{"path": "/usr", "mdoe": "rw"}]})"),
              "p.json: /allowed_paths/0/mdoe: unknown key (did you mean mode?)");
}

TEST(PolicyReject, WrongType) {
    EXPECT_EQ(error_of(R"({"max_memory_mb": "256"})"),
              "p.json: /max_memory_mb: expected a non-negative integer or null, got \"256\"");
    EXPECT_EQ(error_of(R"({"allowed_paths": "/usr"})"), "p.json: /allowed_paths: expected an array, got \"/usr\"");
    EXPECT_EQ(error_of(R"({"default_deny": 1})"), "p.json: /default_deny: expected true or false, got 1");
    EXPECT_EQ(error_of(R"([1, 2])"), "p.json: /: expected a JSON object, got an array");
}

TEST(PolicyReject, NegativeNumber) {
    EXPECT_EQ(error_of(R"({"max_memory_mb": -5})"),
              "p.json: /max_memory_mb: expected a non-negative integer or null, got -5");
}

TEST(PolicyReject, NonIntegerWhereIntegerExpected) {
    EXPECT_EQ(error_of(R"({"max_pids": 1.5})"),
              "p.json: /max_pids: expected a non-negative integer or null, got 1.5");
}

TEST(PolicyReject, AbsurdNumber) {
    EXPECT_EQ(error_of(R"({"max_memory_mb": 2000000})"),
              "p.json: /max_memory_mb: 2000000 is above the ceiling of 1048576");
    EXPECT_EQ(error_of(R"({"timeout_sec": 99999999})"),
              "p.json: /timeout_sec: 99999999 is above the ceiling of 2592000");
    EXPECT_EQ(error_of(R"({"max_cpus": 100000})"), "p.json: /max_cpus: 100000 is above the ceiling of 4096 cores");
}

TEST(PolicyReject, ZeroWhereMeaningless) {
    EXPECT_EQ(error_of(R"({"max_tmpfs_mb": 0})"),
              "p.json: /max_tmpfs_mb: must be at least 1 (tmpfs reads size 0 as unlimited); use null for no limit");
    EXPECT_EQ(error_of(R"({"max_cpus": 0})"), "p.json: /max_cpus: expected a number of cores greater than 0, got 0");
    EXPECT_NE(error_of(R"({"max_pids": 0})").find("/max_pids: must be at least 2"), std::string::npos);
    // PID 1 counts in the sandbox's cgroup and user namespace: 1 would fail every run at
    // the command's start (EAGAIN from clone) instead of at the policy's load.
    EXPECT_NE(error_of(R"({"max_pids": 1})").find("/max_pids: must be at least 2 (the sandbox's init (PID 1)"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"max_disk_mb": 0})").find("/max_disk_mb: must be at least 1"), std::string::npos);
    EXPECT_NE(error_of(R"({"max_files": 0})").find("/max_files: must be at least 1"), std::string::npos);
}

TEST(PolicyParse, DiskBudgetKeysAndNullForUnlimited) {
    Policy p = parse_policy(R"({"max_disk_mb": 10, "max_files": 99})", "p.json");
    EXPECT_EQ(p.limits.disk_mb, 10u);
    EXPECT_EQ(p.limits.files, 99u);
    p = parse_policy(R"({"max_disk_mb": null, "max_files": null})", "p.json");
    EXPECT_FALSE(p.limits.disk_mb);
    EXPECT_FALSE(p.limits.files);
}

TEST(PolicyReject, UnknownSyscallSuggestsNearest) {
    EXPECT_EQ(error_of(R"({"blocked_syscalls": ["mount", "ptrace", "ptrce"]})"),
              "p.json: /blocked_syscalls/2: unknown system call \"ptrce\" (did you mean ptrace?)");
    EXPECT_EQ(error_of(R"({"blocked_syscalls": ["socketcall"]})"),
              "p.json: /blocked_syscalls/0: unknown system call \"socketcall\" on this architecture (it exists on others only)");
}

TEST(PolicyReject, UnknownGroupListsKnownGroups) {
    std::string e = error_of(R"({"blocked_syscalls": ["@mnt"]})");
    EXPECT_EQ(e.rfind("p.json: /blocked_syscalls/0: unknown system call group \"@mnt\" (known groups: @chown", 0), 0u) << e;
    EXPECT_NE(e.find("@mount"), std::string::npos);
    EXPECT_NE(e.find("@privileged"), std::string::npos);
}

TEST(PolicyReject, RelativePath) {
    EXPECT_EQ(error_of(R"({"allowed_paths": ["usr/lib"]})"),
              "p.json: /allowed_paths/0: path must be absolute: \"usr/lib\"");
    EXPECT_EQ(error_of(R"({"allowed_paths": [""]})"), "p.json: /allowed_paths/0: empty path");
}

TEST(PolicyReject, NonNormalPath) {
    EXPECT_EQ(error_of(R"({"allowed_paths": ["/usr/../etc"]})"),
              "p.json: /allowed_paths/0: path must be normal (no \".\" or \"..\" components): \"/usr/../etc\"");
    EXPECT_EQ(error_of(R"({"allowed_paths": ["/usr/./lib"]})"),
              "p.json: /allowed_paths/0: path must be normal (no \".\" or \"..\" components): \"/usr/./lib\"");
    EXPECT_EQ(error_of(R"({"allowed_paths": ["/usr//lib"]})"),
              "p.json: /allowed_paths/0: path must not contain \"//\": \"/usr//lib\"");
    EXPECT_EQ(error_of(R"({"allowed_paths": ["/usr/"]})"),
              "p.json: /allowed_paths/0: path must not end in '/': \"/usr/\"");
    EXPECT_EQ(error_of(R"({"allowed_paths": [{"path": "/a\u0000b"}]})"),
              "p.json: /allowed_paths/0/path: path contains a control character: \"/a\\x00b\"");
    EXPECT_EQ(error_of(R"({"allowed_paths": ["/x/.."]})"),
              "p.json: /allowed_paths/0: path must be normal (no \".\" or \"..\" components): \"/x/..\"");
}

// Paths whose bind would undo the sandbox itself are refused, each with why.
TEST(PolicyReject, RootOfTheHost) {
    EXPECT_EQ(error_of(R"({"allowed_paths": ["/usr", "/"]})"),
              "p.json: /allowed_paths/1: \"/\" would bind the whole host file system into the sandbox "
              "(list the directories the command needs instead)");
    EXPECT_EQ(error_of(R"({"allowed_paths": [{"path": "/", "mode": "rw"}]})").rfind(
                  "p.json: /allowed_paths/0/path: \"/\" would bind the whole host", 0),
              0u);
}

TEST(PolicyReject, HostProc) {
    const std::string why = " is the host's /proc: it shows host processes and defeats the sandbox's pid "
                            "namespace (the sandbox always has a /proc of its own)";
    EXPECT_EQ(error_of(R"({"allowed_paths": ["/proc"]})"), "p.json: /allowed_paths/0: \"/proc\"" + why);
    EXPECT_EQ(error_of(R"({"allowed_paths": ["/usr", {"path": "/proc/1/root"}]})"),
              "p.json: /allowed_paths/1/path: \"/proc/1/root\"" + why);
    EXPECT_EQ(error_of(R"({"allowed_paths": ["/proc/self/fd"]})"), "p.json: /allowed_paths/0: \"/proc/self/fd\"" + why);
    // Only the component /proc: a name that merely begins with it is an ordinary path.
    EXPECT_EQ(error_of(R"({"allowed_paths": ["/procedures", "/srv/proc"]})"), "");
}

TEST(PolicyReject, HostCgroupHierarchy) {
    const std::string why = " is the host's cgroup hierarchy: the sandbox could read it and, where it is "
                            "writable, move itself out of its limits";
    EXPECT_EQ(error_of(R"({"allowed_paths": ["/sys/fs/cgroup"]})"),
              "p.json: /allowed_paths/0: \"/sys/fs/cgroup\"" + why);
    EXPECT_EQ(error_of(R"({"allowed_paths": [{"path": "/sys/fs/cgroup/user.slice", "mode": "rw"}]})"),
              "p.json: /allowed_paths/0/path: \"/sys/fs/cgroup/user.slice\"" + why);
    // A read-write /sys or /sys/fs would carry it along (the bind is recursive); read-only is allowed.
    EXPECT_EQ(error_of(R"({"allowed_paths": [{"path": "/sys", "mode": "rw"}]})"),
              "p.json: /allowed_paths/0/path: \"/sys\" read-write would carry the host's cgroup hierarchy "
              "(/sys/fs/cgroup) along, writable (bind it read-only)");
    EXPECT_NE(error_of(R"({"allowed_paths": [{"path": "/sys/fs", "mode": "rw"}]})"), "");
    EXPECT_EQ(error_of(R"({"allowed_paths": ["/sys", {"path": "/sys/fs/cgroupx", "mode": "rw"}]})"), "");
}

TEST(PolicyReject, DuplicatePath) {
    EXPECT_EQ(error_of(R"({"allowed_paths": ["/usr", {"path": "/usr", "mode": "rw"}]})"),
              "p.json: /allowed_paths/1: duplicate path \"/usr\"");
}

TEST(PolicyReject, BadPathMode) {
    EXPECT_EQ(error_of(R"({"allowed_paths": [{"path": "/srv", "mode": "wr"}]})"),
              "p.json: /allowed_paths/0/mode: expected \"ro\" or \"rw\", got \"wr\"");
}

TEST(PolicyReject, MalformedJsonWithLineAndColumn) {
    std::string e = error_of("{\n  \"max_pids\": 5,\n  \"x\" 7\n}");
    EXPECT_EQ(e.rfind("p.json: not valid JSON at line 3, column 7: syntax error", 0), 0u) << e;
    // nlohmann notices the bad literal at the byte after it.
    e = error_of("{\"max_pids\": tru}");
    EXPECT_EQ(e.rfind("p.json: not valid JSON at line 1, column 17: syntax error", 0), 0u) << e;
    e = error_of("");
    EXPECT_EQ(e.rfind("p.json: not valid JSON at line 1, column 1: syntax error", 0), 0u) << e;
}

TEST(PolicyReject, DuplicateKey) {
    EXPECT_EQ(error_of(R"({"max_pids": 5, "max_pids": 6})"), "p.json: /max_pids: duplicate key");
    EXPECT_EQ(error_of(R"({"environment": {"set": {"A": "1", "A": "2"}}})"),
              "p.json: /environment/set/A: duplicate key");
}

TEST(PolicyReject, TooLargeOrTooDeep) {
    std::string big = "{\"hostname\": \"" + std::string(2 << 20, 'a') + "\"}";
    EXPECT_EQ(error_of(big).rfind("p.json: policy is ", 0), 0u);
    std::string deep = "{\"environment\": " + std::string(40, '[') + std::string(40, ']') + "}";
    EXPECT_EQ(error_of(deep), "p.json: /environment/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0: nested deeper than 16 levels");
}

TEST(PolicyReject, BadAction) {
    EXPECT_EQ(error_of(R"({"blocked_action": "deny"})"),
              "p.json: /blocked_action: expected \"errno\", \"kill\" or \"log\", got \"deny\"");
    EXPECT_EQ(error_of(R"({"blocked_action": {"action": "kill", "errno": "EPERM"}})"),
              "p.json: /blocked_action/errno: only meaningful with \"action\": \"errno\"");
}

TEST(PolicyReject, BadErrnoName) {
    EXPECT_EQ(error_of(R"({"blocked_action": {"action": "errno", "errno": "EPREM"}})"),
              "p.json: /blocked_action/errno: unknown errno name \"EPREM\" (e.g. \"EPERM\", \"EACCES\", \"ENOSYS\")");
}

TEST(PolicyReject, BadHostname) {
    EXPECT_EQ(error_of(R"({"hostname": "bad_host"})"),
              "p.json: /hostname: invalid hostname \"bad_host\": only letters, digits, '-' and '.' are allowed (RFC 1123)");
    EXPECT_EQ(error_of(R"({"hostname": "-lead"})"),
              "p.json: /hostname: invalid hostname \"-lead\": label starts or ends with '-'");
    EXPECT_EQ(error_of(R"({"hostname": "a..b"})"), "p.json: /hostname: invalid hostname \"a..b\": empty label");
    EXPECT_NE(error_of("{\"hostname\": \"" + std::string(65, 'a') + "\"}").find("longer than 64 characters"),
              std::string::npos);
}

TEST(PolicyReject, BadNetwork) {
    EXPECT_EQ(error_of(R"({"network": "bridge"})"), "p.json: /network: expected \"none\" or \"host\", got \"bridge\"");
}

TEST(PolicyReject, BadEnvironmentName) {
    EXPECT_EQ(error_of(R"({"environment": {"pass": ["A=B"]}})"),
              "p.json: /environment/pass/0: invalid environment variable name \"A=B\" (no '=', NUL or control characters)");
    EXPECT_EQ(error_of(R"({"environment": {"set": {"": "x"}}})"),
              "p.json: /environment/set/: empty environment variable name");
    EXPECT_EQ(error_of(R"({"environment": {"set": {"X": "a\u0000b"}}})"),
              "p.json: /environment/set/X: value contains a NUL byte");
}

TEST(PolicyReject, AllowAndBlockTogether) {
    EXPECT_EQ(error_of(R"({"allowed_syscalls": ["execve"], "blocked_syscalls": ["mount"]})"),
              "p.json: /allowed_syscalls: cannot be combined with a non-empty blocked_syscalls "
              "(allow-list mode blocks everything not listed)");
}

TEST(PolicyReject, AllowListWithoutExecve) {
    EXPECT_EQ(error_of(R"({"allowed_syscalls": ["read", "write"]})"),
              "p.json: /allowed_syscalls: must include execve: the sandbox starts the command with it");
}

TEST(PolicyReject, ControlCharactersInKeysStayOnOneLine) {
    EXPECT_EQ(error_of("{\"a\\nb\": 1}"), "p.json: /a\\x0ab: unknown key");
}

TEST(PolicyFile, MissingAndNonRegularFilesAreErrors) {
    try {
        load_policy_file("/nonexistent/p.json");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "reading policy /nonexistent/p.json: ENOENT (No such file or directory)");
    }
    try {
        load_policy_file("/dev/null");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "reading policy /dev/null: not a regular file");
    }
}

TEST(PolicyStore, WriteLoadListAndResolve) {
    test::TempDir dir;
    EXPECT_TRUE(list_policies(dir.path()).empty());
    std::string path = write_policy(dir.path(), "web-1.0", R"({"max_pids": 7})", "in.json");
    EXPECT_EQ(path, dir.path() + "/web-1.0.json");
    EXPECT_EQ(load_named_policy(dir.path(), "web-1.0").limits.pids, 7u);
    EXPECT_EQ(list_policies(dir.path()), (std::vector<std::string>{"web-1.0"}));
    // A name is searched in each directory in order; a path is a file.
    ResolvedPolicy r = resolve_policy("web-1.0", {"", dir.path() + "/missing", dir.path()});
    EXPECT_EQ(r.path, path);
    EXPECT_EQ(resolve_policy(path, {}).policy.limits.pids, 7u);
    // Invalid content never replaces a stored policy.
    EXPECT_THROW(write_policy(dir.path(), "web-1.0", R"({"max_pids": -1})", "in.json"), Error);
    EXPECT_EQ(load_named_policy(dir.path(), "web-1.0").limits.pids, 7u);
    EXPECT_EQ(list_policies(dir.path()).size(), 1u) << "no temp file left behind";
}

TEST(PolicyStore, RejectsBadNamesAndMissingPolicies) {
    test::TempDir dir;
    for (const char* bad : {"", "../x", "a/b", ".hidden", "a..b", "-x", "x y"}) {
        EXPECT_FALSE(valid_policy_name(bad)) << bad;
        EXPECT_THROW(write_policy(dir.path(), bad, "{}", "in.json"), Error) << bad;
    }
    EXPECT_FALSE(valid_policy_name(std::string(65, 'a')));
    EXPECT_TRUE(valid_policy_name(std::string(64, 'a')));
    try {
        load_named_policy(dir.path(), "absent");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()).rfind("policy \"absent\" not found in ", 0), 0u) << e.what();
    }
    EXPECT_THROW(resolve_policy("absent", {dir.path()}), Error);
}

}  // namespace
}  // namespace aj::policy
