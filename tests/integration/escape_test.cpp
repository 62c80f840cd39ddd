// The escape suite: runs the static probe (tests/escape/) inside `aurora-jail run` under
// the default policy plus the probe's directory and a directory of other tenants' files
// (read-only) and one the quota attack talks through (rw), and turns each of its
// `ATTACK name STATUS detail` lines into one test that fails on ESCAPED. ctest runs this
// binary as root and again as uid 65534 (tests/as_nobody.sh). Around the run the harness
// holds what the host-boundary attacks reach for: a live neighbour sandbox (root), the
// caller's terminal and `2>> log` file, a procfs below a granted tree (root, in a mount
// namespace of the run alone), and a thread answering the quota attack (root).
//
// Each ctest entry is its own process: the probe is run once per process, with only the
// attacks that process's tests need (`only=`), so one test does not pay for all.
//
// Warm mode runs the same probe through the host daemon's queue, each request served by a
// warm sandbox (`host --warm 2`, runner/warm_pool.hpp): the probe is a staged plugin's
// command under the same policy, and every attack blocked by a direct run must be
// blocked there too.
#include <gtest/gtest.h>
#include <iostream>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <numeric>
#include <set>
#include <sstream>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/escape/harness.hpp"
#include "tests/integration/fallback_no_userns.hpp"
#include "tests/integration/plugin_support.hpp"
#include "tests/escape/probe_blob.hpp"
#include "policy/error.hpp"
#include "tests/support/jail.hpp"
#include "tests/support/process.hpp"

namespace {

using aj::test::ProcessResult;
using aj::test::TempDir;
namespace escape = aj::escape;

enum class Mode { Namespaces, RlimitOnly, Warm };

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
// workdir belongs to nobody, the uid every root caller's sandbox used to share (the
// sandbox reaches it through an idmapped bind), and so does the "nobody daemon"'s file
// the sandbox must not read. No host process has a root caller's sandbox's leased uid:
// its host target is another live sandbox (the neighbour), which has a uid of its own.
// An ordinary caller's sandbox is the caller: its host target runs as the caller.
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

PolicyFile write_probe_policy(const TempDir& dir, const std::vector<std::string>& ro_dirs,
                              const std::vector<std::string>& rw_dirs) {
    ProcessResult show = aj::test::run_aj({"policy", "show"});
    if (show.exit_code != 0) throw std::runtime_error("aurora-jail policy show failed: " + show.err);
    nlohmann::json p = nlohmann::json::parse(show.out);
    auto& paths = p["allowed_paths"];
    for (const auto& d : ro_dirs) {
        if (!paths.empty() && paths.front().is_string()) paths.push_back(d);
        else paths.push_back({{"path", d}, {"mode", "ro"}});
    }
    for (const auto& d : rw_dirs) paths.push_back({{"path", d}, {"mode", "rw"}});
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
//   tenants/ (1777, read-only inside): a nobody daemon's 0600 file and what the
//   neighbour sandbox writes (root callers); quota/ (1777, rw): the quota attack's
//   exchange with the harness.
struct Layout {
    TempDir base;
    std::string probe_dir, probe, suid_copy, secret, work, tenants, nobody_file, quota;
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
    l->tenants = b + "/tenants";
    std::filesystem::create_directory(l->tenants);
    ::chmod(l->tenants.c_str(), 01777);
    if (aj::test::running_as_root()) {
        l->nobody_file = l->base.write("tenants/nobody-daemon-secret", "a nobody daemon's secret\n", 0600);
        if (::chown(l->nobody_file.c_str(), kSandboxHostUid, kSandboxHostUid) != 0)
            throw std::runtime_error("cannot chown the nobody daemon's file");
    }
    // Where the quota attack asks the harness: writable by any uid (the sandbox's leased
    // one too, in rlimit-only mode where no idmapped bind makes the workdir its own).
    l->quota = b + "/quota";
    std::filesystem::create_directory(l->quota);
    ::chmod(l->quota.c_str(), 01777);
    l->policy = write_probe_policy(l->base, {l->probe_dir, l->tenants}, {l->quota});
    return l;
}

// Another live sandbox of the same (root) caller: it writes a 0600 file into tenants/ and
// then sleeps, so the probe's sandbox has another tenant's file and process to reach for.
// Only for root callers: an ordinary caller's sandboxes all are the caller.
struct Neighbour {
    std::unique_ptr<aj::test::Spawned> run;
    std::string file;
    pid_t pid = -1;  // its command (sleep), on the host

    explicit Neighbour(const Layout& l) {
        nlohmann::json p = l.policy.json;
        for (auto& entry : p["allowed_paths"])
            if (entry == l.tenants || (entry.is_object() && entry.value("path", "") == l.tenants))
                entry = {{"path", l.tenants}, {"mode", "rw"}};
        const std::string policy = l.base.write("neighbour-policy.json", p.dump(2) + "\n");
        file = l.tenants + "/neighbour-secret";
        const std::string token = "600." + std::to_string(std::random_device{}() % 900000 + 100000);
        run = std::make_unique<aj::test::Spawned>(std::vector<std::string>{
            "run", "--policy", policy, "--", "/bin/sh", "-c",
            "umask 077 && echo neighbour-secret > " + file + " && echo READY && exec sleep " + token});
        if (!run->wait_for("READY", 60)) throw std::runtime_error("the neighbour sandbox did not start: " + run->output());
        for (int i = 0; i < 200 && pid < 0; ++i) {
            for (pid_t candidate : aj::test::pids_with_cmdline("sleep " + token)) {
                std::ifstream comm("/proc/" + std::to_string(candidate) + "/comm");
                std::string name;
                if (std::getline(comm, name) && name == "sleep") pid = candidate;
            }
            if (pid < 0) ::usleep(10000);
        }
        if (pid < 0) throw std::runtime_error("the neighbour sandbox's command was not found on the host");
    }

    // "" when it lives untraced, with its file as it wrote it.
    std::string check_untouched() const {
        std::ifstream st("/proc/" + std::to_string(pid) + "/status");
        std::string line;
        bool alive = false;
        while (std::getline(st, line)) {
            alive = true;
            if (line.rfind("TracerPid:", 0) == 0 && line.find_first_not_of(" \t0", 10) != std::string::npos)
                return "the neighbour sandbox is being traced: " + line;
        }
        if (!alive) return "the neighbour sandbox's command died";
        std::ifstream f(file);
        std::string content;
        if (!std::getline(f, content) || content != "neighbour-secret") return "the neighbour's file changed";
        return "";
    }
};

// Answers the caller_inotify_quota attack from the host: once the sandbox holds every
// inotify instance it may have (it writes DIR/holding), can the caller still create one?
class QuotaAnswerer {
public:
    explicit QuotaAnswerer(std::string dir) : dir_(std::move(dir)), thread_([this] { loop(); }) {}
    ~QuotaAnswerer() {
        stop_ = true;
        thread_.join();
    }
    QuotaAnswerer(const QuotaAnswerer&) = delete;
    QuotaAnswerer& operator=(const QuotaAnswerer&) = delete;

private:
    void loop() {
        while (!stop_) {
            if (::access((dir_ + "/holding").c_str(), F_OK) == 0) {
                const int fd = ::inotify_init1(IN_CLOEXEC);
                const std::string answer = fd >= 0 ? "ok" : aj::errno_name(errno);
                if (fd >= 0) ::close(fd);
                std::ofstream(dir_ + "/.host-answer") << answer << "\n";
                std::filesystem::rename(dir_ + "/.host-answer", dir_ + "/host-answer");
                return;
            }
            ::usleep(20000);
        }
    }
    std::string dir_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

// The caller's `2>> log`: what it held before the run, which the run must leave whole.
constexpr const char* kCallerLog = "the caller's log, before the run\n";

// The attacks the tests selected in this process need (gtest_filter aware).
std::set<std::string> needed_attacks(Mode mode) {
    std::set<std::string> names;
    const std::string prefix = mode == Mode::Namespaces ? "Namespaces/" : mode == Mode::Warm ? "Warm/" : "RlimitOnly/";
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

// What the probe attacks from inside, held on the host around its run: another tenant
// (a live neighbour sandbox for root, a host process otherwise), the quota answerer
// (root), the caller's terminal, host listeners, the host's names, a secret in the
// environment. probe_args() tells the probe where they are.
struct HostSide {
    std::unique_ptr<Layout> layout = make_layout();
    const bool root = aj::test::running_as_root();
    std::unique_ptr<Neighbour> neighbour = root ? std::make_unique<Neighbour>(*layout) : nullptr;
    std::unique_ptr<escape::HostTarget> target =
        root ? nullptr : std::make_unique<escape::HostTarget>(::getuid(), ::getgid(), kTargetComm);
    std::unique_ptr<QuotaAnswerer> quota = root ? std::make_unique<QuotaAnswerer>(layout->quota) : nullptr;
    escape::CallerTerminal tty;
    escape::TcpListener tcp;
    escape::AbstractUnixListener unix_socket;
    const std::string hostname = uname_field(false), domainname = uname_field(true);
    const std::string secret_value = escape::random_hex(24);

    // key=value arguments, `only` the attacks to run.
    std::vector<std::string> probe_args(const std::string& only) const {
        const nlohmann::json& pol = layout->policy.json;
        std::vector<std::pair<std::string, std::string>> args = {
            {"host_pid", std::to_string(root ? neighbour->pid : target->pid())},
            {"host_comm", root ? "sleep" : kTargetComm},
            {"caller_tty", std::to_string(tty.rdev())},
            {"secret", layout->secret},                 {"tcp_port", std::to_string(tcp.port())},
            {"unix_abstract", unix_socket.name()},      {"env_name", kSecretEnv},
            {"env_value", secret_value},                {"host_hostname", hostname},
            {"host_domainname", domainname},            {"only", only}};
        if (!layout->suid_copy.empty()) args.emplace_back("suid_copy", layout->suid_copy);
        if (root) {
            args.emplace_back("nobody_file", layout->nobody_file);
            args.emplace_back("neighbour_file", neighbour->file);
            args.emplace_back("quota_dir", layout->quota);
        }
        for (auto [key, field] : {std::pair{"mem_mb", "max_memory_mb"}, {"tmp_mb", "max_tmpfs_mb"},
                                  {"open_files", "max_open_files"}, {"pids", "max_pids"},
                                  {"cpu_sec", "max_cpu_sec"}})
            if (long v = limit_of(pol, field); v > 0) args.emplace_back(key, std::to_string(v));
        std::vector<std::string> out;
        for (const auto& [k, v] : args) out.push_back(k + "=" + v);
        return out;
    }

    // A procfs below a granted tree (item 6 of issue 11), mounted in a private mount
    // namespace of the run alone (`argv` wrapped), so nothing changes on the host. Only
    // root can mount one beside the namespaces a root caller's sandbox needs. Returns
    // the probe's argument naming it.
    std::string wrap_with_proc_submount(std::vector<std::string>& argv) const {
        const std::string proc_dir = layout->tenants + "/proc";
        std::filesystem::create_directory(proc_dir);
        ::chmod(proc_dir.c_str(), 0755);
        std::vector<std::string> wrapped{"/usr/bin/unshare", "-m", "--propagation", "private", "/bin/sh", "-c",
                                         "mount -t proc proc \"$0\" && exec \"$@\"", proc_dir};
        wrapped.insert(wrapped.end(), argv.begin(), argv.end());
        argv = std::move(wrapped);
        return "proc_submount=" + proc_dir;
    }

    // What the run changed on the host that it must not have.
    void check(std::vector<std::string>& problems) const {
        if (std::string p = root ? neighbour->check_untouched() : target->check_untouched(); !p.empty())
            problems.push_back(p);
        if (std::string p = tty.check_unchanged(); !p.empty()) problems.push_back(p);
        if (tcp.had_connection()) problems.push_back("the host TCP listener got a connection");
        if (unix_socket.had_connection()) problems.push_back("the host abstract socket got a connection");
        if (uname_field(false) != hostname) problems.push_back("host hostname changed to " + uname_field(false));
        if (uname_field(true) != domainname) problems.push_back("host domainname changed");
    }
};

// The attacks in `names`, in probe order, as `only=` lists: the slow ones (exhaustion)
// alone, the others by `per_batch`.
std::vector<std::string> attack_batches(const std::set<std::string>& names, std::size_t per_batch,
                                        std::size_t* count) {
    std::vector<std::string> batches;
    std::string batch;
    std::size_t in_batch = 0;
    *count = 0;
    for (const auto& a : all_attacks()) {
        if (!names.count(a.name)) continue;
        ++*count;
        if (a.timeout_sec >= 15) {
            batches.push_back(a.name);
            continue;
        }
        batch += (batch.empty() ? "" : ",") + a.name;
        if (++in_batch == per_batch) {
            batches.push_back(std::move(batch));
            batch.clear();
            in_batch = 0;
        }
    }
    if (!batch.empty()) batches.push_back(batch);
    return batches;
}

// Warm mode: the probe as a staged plugin's command, submitted to a host daemon with
// warm sandboxes, under the same policy as a direct run; each batch of attacks is one
// request, and only a request a warm sandbox served counts (one served cold is
// submitted again). The daemon carries the secret in its environment: a warm sandbox is
// built from the daemon's, before any request.
void warm_run(const std::set<std::string>& names, HostSide& host, SandboxRun& r) {
    aj::test::PluginEnv env;
    std::filesystem::create_directories(env.state + "/policies");
    std::filesystem::copy_file(host.layout->policy.path, env.state + "/policies/escape-probe.json");
    env.stage("escape.probe", "\"run.sh\"", R"(, "policy": "escape-probe")");
    if (::testing::Test::HasFatalFailure()) throw std::runtime_error("staging the probe's plugin failed");
    aj::test::DaemonSpawn spawn{{}, {std::string(kSecretEnv) + "=" + host.secret_value}};
    std::string proc_submount;
    if (host.root) proc_submount = host.wrap_with_proc_submount(spawn.wrapper);
    aj::test::Daemon daemon(env, 1, 2, spawn);
    auto submit = [&](const std::vector<std::string>& command, std::string* name) {
        std::vector<std::string> args{"submit", "--plugin", "escape.probe", "--wait", "--wait-timeout", "300", "--"};
        args.insert(args.end(), command.begin(), command.end());
        ProcessResult p = env.aj(args, 400);
        std::smatch m;
        static const std::regex submitted("submitted (\\S+)");
        *name = std::regex_search(p.err, m, submitted) ? m[1].str() : "";
        return p;
    };
    // The pool of a plugin fills once it had a request (served cold).
    std::string name;
    if (ProcessResult first = submit({"/bin/true"}, &name); first.exit_code != 0)
        throw std::runtime_error("the daemon did not serve a first request: " + first.err + daemon.log());
    // The daemon logs "NAME: plugin ID rc=N[ (timeout)] (warm)" for a warm sandbox's answer.
    auto served_warm = [&daemon](const std::string& request) {
        std::istringstream log(daemon.log());
        for (std::string line; std::getline(log, line);)
            if (!request.empty() && line.find(request + ": plugin escape.probe rc=") != std::string::npos &&
                line.find(" (warm)") != std::string::npos)
                return true;
        return false;
    };
    for (const std::string& only : attack_batches(names, 30, &r.attacks_requested)) {
        std::vector<std::string> command{host.layout->probe};
        for (const std::string& a : host.probe_args(only)) command.push_back(a);
        if (!proc_submount.empty()) command.push_back(proc_submount);
        bool warm = false;
        for (int attempt = 0; attempt < 20 && !warm; ++attempt) {
            if (attempt) std::this_thread::sleep_for(std::chrono::milliseconds(500));
            r.proc = submit(command, &name);
            warm = served_warm(name);
        }
        r.command_line += "submit (warm) -- " + host.layout->probe + " only=" + only + "; ";
        if (!warm) throw std::runtime_error("no warm sandbox served the probe (only=" + only + "):\n" + daemon.log());
        std::cout << "[escape] warm request " << name << " only=" << only << "\n" << r.proc.out << std::flush;
        const escape::ProbeOutput part = escape::parse_probe_output(r.proc.out);
        r.probe.attacks.insert(part.attacks.begin(), part.attacks.end());
        nlohmann::json response = nlohmann::json::parse(
            aj::test::slurp(env.queue("responses") + "/" + name + ".result.json"), nullptr, false);
        if (response.is_object() && response["report"].is_object() && response["report"]["mode"].is_string())
            r.mode = response["report"]["mode"];
    }
    daemon.signal(SIGTERM);
    if (const int rc = daemon.wait(); rc != 0)
        r.host_problems.push_back("the daemon did not drain cleanly (" + std::to_string(rc) + "): " + daemon.log());
}

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
        if (mode == Mode::Warm && !aj::test::sandbox_works()) {
            r.skip_reason = "no sandbox here (aurora-jail run -- /bin/true fails): no warm sandbox either";
            return r;
        }
        HostSide host;
        const Layout* layout = host.layout.get();
        if (mode == Mode::Warm) {
            warm_run(names, host, r);
            host.check(r.host_problems);
            return r;
        }
        const bool root = host.root;
        const std::string caller_log = layout->base.write("caller.log", kCallerLog, 0644);
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
        if (mode == Mode::Namespaces && !cli.require_isolation.empty() && root)
            argv.push_back(cli.require_isolation);
        if (mode == Mode::RlimitOnly && !cli.force_fallback.empty()) argv.push_back(cli.force_fallback);
        for (const std::string& a : {std::string("--policy"), layout->policy.path, std::string("--workdir"),
                                     layout->work, std::string("--report"), report,
                                     std::string("--timeout"), std::to_string(timeout), std::string("--"),
                                     layout->probe})
            argv.push_back(a);
        for (const std::string& a : host.probe_args(only)) argv.push_back(a);
        // rlimit-only mode for real: aurora-jail runs on a "host" whose seccomp filter
        // refuses namespaces (tests/integration/fallback_no_userns.hpp), so it falls back.
        if (mode == Mode::RlimitOnly && cli.force_fallback.empty()) argv = aj::test::without_namespaces(argv);
        if (root && mode == Mode::Namespaces) {
            const std::string arg = host.wrap_with_proc_submount(argv);
            argv.push_back(arg);
        }
        for (const auto& a : argv) r.command_line += a + " ";

        r.proc = escape::run_with_tty(host.tty, argv, {std::string(kSecretEnv) + "=" + host.secret_value}, timeout + 30,
                                      caller_log);
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
        host.check(r.host_problems);
        const std::string log = aj::sys::read_file(caller_log);
        if (log.rfind(kCallerLog, 0) != 0) r.host_problems.push_back("the caller's log lost what it held before the run");
        if (log.find('\0') != std::string::npos) r.host_problems.push_back("the caller's log was grown with zeroes");
        // What the sandbox leaves in its work directory stays on the host: nothing set-id.
        std::error_code walk_error;
        for (const auto& e : std::filesystem::recursive_directory_iterator(layout->work, walk_error)) {
            struct stat st{};
            if (::lstat(e.path().c_str(), &st) == 0 && (st.st_mode & (S_ISUID | S_ISGID)))
                r.host_problems.push_back("the sandbox left a set-id file: " + e.path().string());
        }
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
    *os << p.spec.name
        << (p.mode == Mode::Namespaces ? " (namespaces)" : p.mode == Mode::Warm ? " (warm, through the queue)" : " (rlimit-only)");
}

class EscapeAttack : public testing::TestWithParam<AttackParam> {};

TEST_P(EscapeAttack, Blocked) {
    const AttackParam& p = GetParam();
    const SandboxRun& run = sandbox_run(p.mode);
    if (!run.skip_reason.empty()) GTEST_SKIP() << run.skip_reason;
    ASSERT_TRUE(run.setup_error.empty()) << run.setup_error;
    const char* want_mode = p.mode == Mode::RlimitOnly ? "rlimit-only" : "namespaces";
    if (!run.mode.empty()) {
        ASSERT_EQ(run.mode, want_mode) << "the run did not happen in the mode under test" << run_context(run);
    }
    auto it = run.probe.attacks.find(p.spec.name);
    ASSERT_NE(it, run.probe.attacks.end())
        << "the probe printed no line for attack " << p.spec.name << " (crashed or killed?)" << run_context(run);
    const escape::Verdict& v = it->second;
    if (v.status == "SKIPPED") GTEST_SKIP() << p.spec.name << ": " << v.detail;
    EXPECT_EQ(v.status, "BLOCKED") << "ATTACK " << p.spec.name << " got through (" << want_mode
                                   << (p.mode == Mode::Warm ? " mode, a warm sandbox" : " mode")
                                   << ", " << (aj::test::running_as_root() ? "root" : "unprivileged")
                                   << " caller): " << v.detail;
    // Warm runs have no test of their own for the host's side: each checks it here.
    if (p.mode == Mode::Warm) {
        EXPECT_TRUE(run.host_problems.empty())
            << std::accumulate(run.host_problems.begin(), run.host_problems.end(), std::string(),
                               [](const std::string& a, const std::string& b) { return a + b + "; "; });
    }
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
        if (mode != Mode::RlimitOnly || (a.rlimit_mode && !decided_by_wrapper(a.name))) v.push_back({a, mode});
    return v;
}

std::string param_name(const testing::TestParamInfo<AttackParam>& info) { return info.param.spec.name; }

INSTANTIATE_TEST_SUITE_P(Namespaces, EscapeAttack, testing::ValuesIn(params(Mode::Namespaces)), param_name);
INSTANTIATE_TEST_SUITE_P(RlimitOnly, EscapeAttack, testing::ValuesIn(params(Mode::RlimitOnly)), param_name);
INSTANTIATE_TEST_SUITE_P(Warm, EscapeAttack, testing::ValuesIn(params(Mode::Warm)), param_name);

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
