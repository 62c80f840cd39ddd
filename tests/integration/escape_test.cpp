// The escape suite: runs the static probe (tests/escape/) inside `aurora-jail run` under
// the default policy plus the probe's directory (read-only), and turns each of its
// `ATTACK name STATUS detail` lines into one test that fails on ESCAPED. ctest runs this
// binary as root and again as uid 65534 (tests/as_nobody.sh).
//
// Each ctest entry is its own process: the probe is run once per process, with only the
// attacks that process's tests need (`only=`), so one test does not pay for all.
#include <gtest/gtest.h>
#include <iostream>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <numeric>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/escape/harness.hpp"
#include "tests/integration/fallback_no_userns.hpp"
#include "tests/escape/probe_blob.hpp"
#include "tests/support/process.hpp"

namespace {

using aj::test::ProcessResult;
using aj::test::TempDir;
namespace escape = aj::escape;

enum class Mode { Namespaces, RlimitOnly };

struct AttackSpec {
    std::string name;
    int timeout_sec;
    bool rlimit_mode;  // also promised by rlimit-only mode
};

#define AJ_ALL true
#define AJ_NS false
const std::vector<AttackSpec>& all_attacks() {
    static const std::vector<AttackSpec> v = {
#define AJ_ATTACK(name, timeout, modes) {#name, timeout, modes},
#include "tests/escape/attacks.def"
#undef AJ_ATTACK
    };
    return v;
}
#undef AJ_ALL
#undef AJ_NS

// A root caller's sandbox runs as a host uid leased for the run (helper/id_pool.hpp); the
// target runs as nobody, the uid every root caller's sandbox used to share, and the
// workdir belongs to nobody (the sandbox reaches it through an idmapped bind).
constexpr uid_t kSandboxHostUid = 65534;
constexpr const char* kTargetComm = "aj-escape-tgt";
constexpr const char* kSecretEnv = "AJ_ESCAPE_SECRET";

std::string uname_field(bool domain) {
    utsname u{};
    ::uname(&u);
    return domain ? u.domainname : u.nodename;
}

// What `aurora-jail run --help` offers; the suite adapts instead of guessing.
struct RunCli {
    std::string unavailable;       // non-empty: skip everything
    std::string require_isolation; // flag that forbids fallback, or ""
    std::string force_fallback;    // flag that forces rlimit-only mode, or ""
};

const RunCli& run_cli() {
    static const RunCli cli = [] {
        RunCli c;
        ProcessResult help = aj::test::run_aj({"run", "--help"});
        std::string text = help.out + help.err;
        if (help.exit_code != 0 || text.find("not yet built") != std::string::npos) {
            c.unavailable = "aurora-jail run not available yet";
            return c;
        }
        ProcessResult t = aj::test::run_aj({"run", "--", "/bin/true"});
        if (t.err.find("not implemented") != std::string::npos) {
            c.unavailable = "aurora-jail run not available yet";
            return c;
        }
        for (const char* f : {"--require-isolation"})
            if (text.find(f) != std::string::npos) c.require_isolation = f;
        for (const char* f : {"--force-fallback", "--rlimit-only", "--force-rlimit-only"})
            if (text.find(f) != std::string::npos) c.force_fallback = f;
        return c;
    }();
    return cli;
}

// The built-in default policy as JSON (policy show), with the probe's directory added.
struct PolicyFile {
    std::string path;
    nlohmann::json json;
};

PolicyFile write_policy(const TempDir& dir, const std::string& probe_dir) {
    ProcessResult show = aj::test::run_aj({"policy", "show"});
    if (show.exit_code != 0) throw std::runtime_error("aurora-jail policy show failed: " + show.err);
    nlohmann::json p = nlohmann::json::parse(show.out);
    auto& paths = p["allowed_paths"];
    if (!paths.empty() && paths.front().is_string()) paths.push_back(probe_dir);
    else paths.push_back({{"path", probe_dir}, {"mode", "ro"}});
    return {dir.write("policy.json", p.dump(2) + "\n"), p};
}

long limit_of(const nlohmann::json& policy, const char* key) {
    auto it = policy.find(key);
    if (it == policy.end() || !it->is_number()) return -1;
    return static_cast<long>(it->get<double>());
}

// Directory layout of one run (all under a world-readable temp dir):
//   probe/aj-escape-probe (+ a setuid-root copy when root), secret/secret.txt (not in
//   the policy), work/ (the run's rw workdir), policy.json, report.json.
struct Layout {
    TempDir base;
    std::string probe_dir, probe, suid_copy, secret, work;
    PolicyFile policy;
};

std::unique_ptr<Layout> make_layout() {
    auto l = std::make_unique<Layout>();
    const std::string b = l->base.path();
    l->probe_dir = b + "/probe";
    std::filesystem::create_directory(l->probe_dir);
    ::chmod(l->probe_dir.c_str(), 0755);
    l->probe = l->probe_dir + "/aj-escape-probe";
    escape::write_bytes(l->probe, escape::probe_image(), 0755);
    if (aj::test::running_as_root()) {
        l->suid_copy = l->probe_dir + "/aj-escape-probe-suid";
        escape::write_bytes(l->suid_copy, escape::probe_image(), 0755);
        if (::chown(l->suid_copy.c_str(), 0, 0) != 0 || ::chmod(l->suid_copy.c_str(), 04755) != 0)
            throw std::runtime_error("cannot make the setuid copy");
    }
    l->secret = l->base.write("secret/secret.txt", "host secret " + escape::random_hex(8) + "\n", 0644);
    ::chmod((b + "/secret").c_str(), 0755);
    l->work = b + "/work";
    std::filesystem::create_directory(l->work);
    ::chmod(l->work.c_str(), 0755);
    if (aj::test::running_as_root() && ::chown(l->work.c_str(), kSandboxHostUid, kSandboxHostUid) != 0)
        throw std::runtime_error("cannot chown the workdir");
    l->policy = write_policy(l->base, l->probe_dir);
    return l;
}

// The attacks the tests selected in this process need (gtest_filter aware).
std::set<std::string> needed_attacks(Mode mode) {
    std::set<std::string> names;
    const std::string prefix = mode == Mode::Namespaces ? "Namespaces/" : "RlimitOnly/";
    auto* ut = testing::UnitTest::GetInstance();
    for (int i = 0; i < ut->total_test_suite_count(); ++i) {
        const testing::TestSuite* ts = ut->GetTestSuite(i);
        std::string suite = ts->name();
        for (int j = 0; j < ts->total_test_count(); ++j) {
            const testing::TestInfo* ti = ts->GetTestInfo(j);
            if (!ti->should_run()) continue;
            std::string test = ti->name();
            if (suite == prefix + "EscapeAttack") {
                names.insert(test.substr(test.find('/') + 1));
            } else if (suite == "EscapeProbe" && mode == Mode::Namespaces) {
                for (const auto& a : all_attacks()) names.insert(a.name);
            }
        }
    }
    return names;
}

struct SandboxRun {
    std::string skip_reason;
    std::string setup_error;
    std::string command_line;
    ProcessResult proc;
    escape::ProbeOutput probe;
    std::string mode;           // from the run report, "" if none
    std::vector<std::string> host_problems;  // traces found on the host afterwards
    std::size_t attacks_requested = 0;
};

SandboxRun do_run(Mode mode) {
    SandboxRun r;
    const RunCli& cli = run_cli();
    if (!cli.unavailable.empty()) {
        r.skip_reason = cli.unavailable;
        return r;
    }
    std::set<std::string> names = needed_attacks(mode);
    if (names.empty()) return r;
    try {
        auto layout = make_layout();
        const bool root = aj::test::running_as_root();
        escape::HostTarget target(root ? kSandboxHostUid : ::getuid(), root ? kSandboxHostUid : ::getgid(),
                                  kTargetComm);
        escape::TcpListener tcp;
        escape::AbstractUnixListener unix_socket;
        const std::string hostname = uname_field(false), domainname = uname_field(true);
        const std::string secret_value = escape::random_hex(24);
        const std::string report = layout->base.path() + "/report.json";

        int timeout = 60;
        std::string only;
        for (const auto& a : all_attacks()) {
            if (!names.count(a.name)) continue;
            timeout += a.timeout_sec * AJ_ATTACK_SLOWNESS + 3;
            only += (only.empty() ? "" : ",") + a.name;
            ++r.attacks_requested;
        }
        std::vector<std::string> argv{aj::test::aj_bin(), "run"};
        // Not for an ordinary user here: --require-isolation also refuses limits no cgroup
        // holds as totals (the built-in policy's memory and CPU bandwidth); the report's
        // mode is checked below either way.
        if (mode == Mode::Namespaces && !cli.require_isolation.empty() && aj::test::running_as_root())
            argv.push_back(cli.require_isolation);
        if (mode == Mode::RlimitOnly && !cli.force_fallback.empty()) argv.push_back(cli.force_fallback);
        for (const std::string& a : {std::string("--policy"), layout->policy.path, std::string("--workdir"),
                                     layout->work, std::string("--report"), report,
                                     std::string("--timeout"), std::to_string(timeout), std::string("--"),
                                     layout->probe})
            argv.push_back(a);
        const nlohmann::json& pol = layout->policy.json;
        std::vector<std::pair<std::string, std::string>> args = {
            {"host_pid", std::to_string(target.pid())}, {"host_comm", kTargetComm},
            {"secret", layout->secret},                 {"tcp_port", std::to_string(tcp.port())},
            {"unix_abstract", unix_socket.name()},      {"env_name", kSecretEnv},
            {"env_value", secret_value},                {"host_hostname", hostname},
            {"host_domainname", domainname},            {"only", only}};
        if (!layout->suid_copy.empty()) args.emplace_back("suid_copy", layout->suid_copy);
        for (auto [key, field] : {std::pair{"mem_mb", "max_memory_mb"}, {"tmp_mb", "max_tmpfs_mb"},
                                  {"open_files", "max_open_files"}, {"pids", "max_pids"},
                                  {"cpu_sec", "max_cpu_sec"}})
            if (long v = limit_of(pol, field); v > 0) args.emplace_back(key, std::to_string(v));
        for (const auto& [k, v] : args) argv.push_back(k + "=" + v);
        // rlimit-only mode for real: aurora-jail runs on a "host" whose seccomp filter
        // refuses namespaces (tests/integration/fallback_no_userns.hpp), so it falls back.
        if (mode == Mode::RlimitOnly && cli.force_fallback.empty()) argv = aj::test::without_namespaces(argv);
        for (const auto& a : argv) r.command_line += a + " ";

        r.proc = escape::run_with_tty(argv, {std::string(kSecretEnv) + "=" + secret_value}, timeout + 30);
        r.probe = escape::parse_probe_output(r.proc.out);
        // The whole verdict list, for the log (ctest --output-on-failure shows it).
        std::cout << "[escape] " << r.command_line << "\n" << r.proc.out << std::flush;

        std::ifstream rep(report);
        if (rep) {
            try {
                nlohmann::json j = nlohmann::json::parse(rep);
                if (j.contains("mode") && j["mode"].is_string()) r.mode = j["mode"];
            } catch (const std::exception&) {
            }
        }
        if (std::string p = target.check_untouched(); !p.empty()) r.host_problems.push_back(p);
        // What the sandbox leaves in its work directory stays on the host: nothing set-id.
        std::error_code walk_error;
        for (const auto& e : std::filesystem::recursive_directory_iterator(layout->work, walk_error)) {
            struct stat st{};
            if (::lstat(e.path().c_str(), &st) == 0 && (st.st_mode & (S_ISUID | S_ISGID)))
                r.host_problems.push_back("the sandbox left a set-id file: " + e.path().string());
        }
        if (tcp.had_connection()) r.host_problems.push_back("the host TCP listener got a connection");
        if (unix_socket.had_connection()) r.host_problems.push_back("the host abstract socket got a connection");
        if (uname_field(false) != hostname) r.host_problems.push_back("host hostname changed to " + uname_field(false));
        if (uname_field(true) != domainname) r.host_problems.push_back("host domainname changed");
    } catch (const std::exception& e) {
        r.setup_error = e.what();
    }
    return r;
}

const SandboxRun& sandbox_run(Mode mode) {
    static std::map<Mode, SandboxRun> runs;
    auto it = runs.find(mode);
    if (it == runs.end()) it = runs.emplace(mode, do_run(mode)).first;
    return it->second;
}

std::string run_context(const SandboxRun& r) {
    return "\ncommand: " + r.command_line + "\nexit: " + std::to_string(r.proc.exit_code) +
           "\nstderr: " + r.proc.err.substr(0, 4000) + "\nstdout tail: " +
           r.proc.out.substr(r.proc.out.size() > 3000 ? r.proc.out.size() - 3000 : 0);
}

// ---- one test per attack ---------------------------------------------------------------

struct AttackParam {
    AttackSpec spec;
    Mode mode;
};

void PrintTo(const AttackParam& p, std::ostream* os) {
    *os << p.spec.name << (p.mode == Mode::Namespaces ? " (namespaces)" : " (rlimit-only)");
}

class EscapeAttack : public testing::TestWithParam<AttackParam> {};

TEST_P(EscapeAttack, Blocked) {
    const AttackParam& p = GetParam();
    const SandboxRun& run = sandbox_run(p.mode);
    if (!run.skip_reason.empty()) GTEST_SKIP() << run.skip_reason;
    ASSERT_TRUE(run.setup_error.empty()) << run.setup_error;
    const char* want_mode = p.mode == Mode::Namespaces ? "namespaces" : "rlimit-only";
    if (!run.mode.empty()) {
        ASSERT_EQ(run.mode, want_mode) << "the run did not happen in the mode under test" << run_context(run);
    }
    auto it = run.probe.attacks.find(p.spec.name);
    ASSERT_NE(it, run.probe.attacks.end())
        << "the probe printed no line for attack " << p.spec.name << " (crashed or killed?)" << run_context(run);
    const escape::Verdict& v = it->second;
    if (v.status == "SKIPPED") GTEST_SKIP() << p.spec.name << ": " << v.detail;
    EXPECT_EQ(v.status, "BLOCKED") << "ATTACK " << p.spec.name << " got through (" << want_mode
                                   << " mode, " << (aj::test::running_as_root() ? "root" : "unprivileged")
                                   << " caller): " << v.detail;
}

// In rlimit-only mode the no-namespaces wrapper's own filter already refuses namespace
// calls and kills every foreign-ABI call: a verdict on those would test the wrapper, not
// aurora-jail, so they are namespaces-mode tests only.
bool decided_by_wrapper(const std::string& name) {
    static const std::set<std::string> covered = {"unshare_user", "clone_newuser", "clone3_namespaces",
                                                  "unshare_other_ns", "setns_pid1"};
    return covered.count(name) || name.rfind("i386_", 0) == 0 || name.rfind("x32_", 0) == 0;
}

std::vector<AttackParam> params(Mode mode) {
    std::vector<AttackParam> v;
    for (const auto& a : all_attacks())
        if (mode == Mode::Namespaces || (a.rlimit_mode && !decided_by_wrapper(a.name))) v.push_back({a, mode});
    return v;
}

std::string param_name(const testing::TestParamInfo<AttackParam>& info) { return info.param.spec.name; }

INSTANTIATE_TEST_SUITE_P(Namespaces, EscapeAttack, testing::ValuesIn(params(Mode::Namespaces)), param_name);
INSTANTIATE_TEST_SUITE_P(RlimitOnly, EscapeAttack, testing::ValuesIn(params(Mode::RlimitOnly)), param_name);

// ---- the whole run ---------------------------------------------------------------------

TEST(EscapeProbe, PrintsEveryAttackAndSummary) {
    const SandboxRun& run = sandbox_run(Mode::Namespaces);
    if (!run.skip_reason.empty()) GTEST_SKIP() << run.skip_reason;
    ASSERT_TRUE(run.setup_error.empty()) << run.setup_error;
    ASSERT_GE(all_attacks().size(), 45u);
    EXPECT_TRUE(run.probe.summary_seen) << "no SUMMARY line: the probe crashed or was killed" << run_context(run);
    EXPECT_EQ(run.probe.attacks.size(), all_attacks().size()) << run_context(run);
    EXPECT_EQ(run.probe.escaped + run.probe.blocked + run.probe.skipped,
              static_cast<int>(all_attacks().size()));
    EXPECT_GE(run.probe.blocked, 45) << run_context(run);
    EXPECT_EQ(run.probe.escaped, 0) << run_context(run);
}

TEST(EscapeProbe, LeavesNoTraceOnTheHost) {
    const SandboxRun& run = sandbox_run(Mode::Namespaces);
    if (!run.skip_reason.empty()) GTEST_SKIP() << run.skip_reason;
    ASSERT_TRUE(run.setup_error.empty()) << run.setup_error;
    EXPECT_TRUE(run.host_problems.empty())
        << std::accumulate(run.host_problems.begin(), run.host_problems.end(), std::string(),
                           [](const std::string& a, const std::string& b) { return a + b + "; "; });
}

// ---- state the jail writes and the host later uses (firejail CVE-2022-31214) ----------

class EscapeHostState : public testing::Test {
protected:
    void SetUp() override {
        if (!run_cli().unavailable.empty()) GTEST_SKIP() << run_cli().unavailable;
        layout_ = make_layout();
        canary_ = layout_->base.write("canary/canary.txt", "canary\n", 0644);
        ::chmod((layout_->base.path() + "/canary").c_str(), 0755);
    }
    // Runs the probe inside the sandbox to plant LINK -> TARGET in the workdir, with the
    // report requested at `report`.
    ProcessResult plant(const std::string& link, const std::string& target, const std::string& report) {
        return aj::test::run_aj({"run", "--policy", layout_->policy.path, "--workdir", layout_->work, "--report",
                                 report, "--", layout_->probe, "--plant-symlink", link, target},
                                "", 120);
    }
    std::string slurp(const std::string& path) {
        std::ifstream in(path);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }
    std::unique_ptr<Layout> layout_;
    std::string canary_;
};

TEST_F(EscapeHostState, ReportFileIsNotFollowedThroughASandboxSymlink) {
    const std::string report = layout_->work + "/report.json";
    ProcessResult r = plant(report, canary_, report);
    ASSERT_NE(r.out.find("planted"), std::string::npos) << "the probe could not plant the symlink: " << r.out << r.err;
    EXPECT_EQ(slurp(canary_), "canary\n") << "the runner wrote its report through a symlink the sandbox planted";
    struct stat st{};
    if (::lstat(report.c_str(), &st) == 0 && S_ISREG(st.st_mode))
        EXPECT_TRUE(nlohmann::json::accept(slurp(report))) << "the report is not JSON";
    else
        EXPECT_NE(r.exit_code, 0) << "the report was not written, yet the run reported success";
}

TEST_F(EscapeHostState, ReportDirIsNotFollowedThroughASandboxSymlink) {
    const std::string victim = layout_->base.path() + "/canary";
    const std::string link = layout_->work + "/out";
    ProcessResult r = plant(link, victim, link + "/report.json");
    // The runner opens the report's directory before the sandbox exists, so a directory
    // the sandbox would create (here: the symlink) is refused up front, exit 125.
    const bool refused_up_front = r.exit_code == 125 && r.err.find("--report: opening directory") != std::string::npos;
    ASSERT_TRUE(refused_up_front || r.out.find("planted") != std::string::npos)
        << "the probe could not plant the symlink: " << r.out << r.err;
    if (refused_up_front) {
        EXPECT_EQ(r.out.find("planted"), std::string::npos) << "the sandbox ran although the run was refused";
    }
    EXPECT_FALSE(std::filesystem::exists(victim + "/report.json"))
        << "the runner followed a directory symlink the sandbox planted and wrote into " << victim;
    EXPECT_EQ(slurp(canary_), "canary\n");
}

}  // namespace
