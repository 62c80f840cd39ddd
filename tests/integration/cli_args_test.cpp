// `aurora-jail run` argument handling: an option aurora-jail does not know, written
// before CMD, is an error naming it (exit 125, one line) and nothing runs. CLI11's
// prefix_command() only stops at the first unknown *positional*: an unknown option is
// set aside and parsing goes on, so "run --bogus /bin/echo hi" used to run
// "/bin/echo --bogus hi", and a misspelt "--polcy FILE" ran FILE under the default policy.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <sys/stat.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/integration/plugin_support.hpp"
#include "tests/support/process.hpp"

namespace {

using aj::test::ProcessResult;
using aj::test::run_aj;

constexpr const char* kMarker = "aj-cli-args-marker";

// The run must be refused before anything starts: exit 125, one "aurora-jail:" line on
// stderr that names `word`, and no trace of the command on stdout.
void expect_refused(const std::vector<std::string>& args, const std::string& word) {
    ProcessResult r = run_aj(args);
    std::string shown;
    for (const auto& a : args) shown += a + " ";
    EXPECT_EQ(r.exit_code, 125) << shown << "\nstdout: " << r.out << "\nstderr: " << r.err;
    EXPECT_EQ(r.out.find(kMarker), std::string::npos) << shown << ": the command ran: " << r.out;
    EXPECT_EQ(r.err.rfind("aurora-jail: ", 0), 0u) << shown << ": " << r.err;
    EXPECT_NE(r.err.find(word), std::string::npos) << shown << ": the message does not name " << word << ": " << r.err;
    EXPECT_LE(std::count(r.err.begin(), r.err.end(), '\n'), 1) << shown << ": more than one line: " << r.err;
}

TEST(RunArgs, UnknownLongOptionBeforeCmdIsAnError) {
    expect_refused({"run", "--bogus", "/bin/echo", kMarker}, "--bogus");
}

TEST(RunArgs, UnknownLongOptionWithValueBeforeCmdIsAnError) {
    expect_refused({"run", "--bogus=1", "/bin/echo", kMarker}, "--bogus");
}

TEST(RunArgs, UnknownShortOptionBeforeCmdIsAnError) {
    expect_refused({"run", "-Z", "/bin/echo", kMarker}, "-Z");
}

TEST(RunArgs, UnknownOptionAmongKnownOnesIsAnError) {
    expect_refused({"run", "--json", "--bogus", "--", "/bin/echo", kMarker}, "--bogus");
}

TEST(RunArgs, MisspeltPolicyOptionNeverRunsUnderTheDefaultPolicy) {
    aj::test::TempDir dir;
    const std::string policy = dir.write("strict.json", R"({"max_pids": 8})");
    expect_refused({"run", "--polcy", policy, "/bin/echo", kMarker}, "--polcy");
}

// A --report that cannot be written is found before the command runs: afterwards the
// failure would have replaced the command's exit status (issue 12 item 6).
TEST(RunArgs, UnwritableReportIsRefusedBeforeTheCommandRuns) {
    aj::test::TempDir dir;
    const std::string taken = dir.path() + "/a-directory";
    ASSERT_EQ(::mkdir(taken.c_str(), 0755), 0);
    expect_refused({"run", "--report", taken, "--", "/bin/echo", kMarker}, taken);
    if (!aj::test::running_as_root()) {  // root writes anywhere DAC allows nothing
        const std::string locked = dir.path() + "/locked";
        ASSERT_EQ(::mkdir(locked.c_str(), 0555), 0);
        expect_refused({"run", "--report", locked + "/report.json", "--", "/bin/echo", kMarker}, locked);
    }
}

// What must keep working: the command's own options after CMD or after "--".
TEST(RunArgs, OptionsAfterCmdOrDoubleDashBelongToTheCommand) {
    AJ_REQUIRE_SANDBOX();
    ProcessResult r = run_aj({"run", "/bin/echo", "-n", kMarker});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, kMarker);
    r = run_aj({"run", "--", "/bin/echo", "--bogus", kMarker});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "--bogus aj-cli-args-marker\n");
}

// Every word after CMD is the command's, verbatim: a "--" right after it (CLI11 took it
// as its own marker, lost it and refused the next word), aurora-jail's own option names,
// --help.
TEST(RunArgs, EveryWordAfterCmdIsTheCommandsVerbatim) {
    AJ_REQUIRE_SANDBOX();
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
        {{"run", "/bin/echo", "--", kMarker}, "-- aj-cli-args-marker\n"},
        {{"run", "--", "/bin/echo", "--", "--", kMarker}, "-- -- aj-cli-args-marker\n"},
        {{"run", "/bin/echo", "--json", kMarker}, "--json aj-cli-args-marker\n"},
        {{"run", "/bin/echo", "--policy", "x", kMarker}, "--policy x aj-cli-args-marker\n"},
        {{"run", "/usr/bin/printf", "%s\\n", "--help"}, "--help\n"},
        {{"run", "--timeout", "30", "--json", "--workdir=/tmp", "/bin/echo", "--timeout", kMarker},
         "--timeout aj-cli-args-marker\n"},
    };
    for (const auto& [args, out] : cases) {
        ProcessResult r = run_aj(args);
        std::string shown;
        for (const auto& a : args) shown += a + " ";
        EXPECT_EQ(r.exit_code, 0) << shown << r.err;
        // --json prints the report after the command's output.
        EXPECT_EQ(r.out.substr(0, out.size()), out) << shown;
    }
}

// `run --polcy x -- CMD`: the "--" used to make CLI11 report "/bin/true" as the
// unexpected word; the misspelt option is named, with the closest one.
TEST(RunArgs, MisspeltOptionIsNamedWithASuggestion) {
    expect_refused({"run", "--polcy", "x", "--", "/bin/echo", kMarker}, "--polcy");
    ProcessResult r = run_aj({"run", "--polcy", "x", "--", "/bin/echo", kMarker});
    EXPECT_NE(r.err.find("did you mean --policy?"), std::string::npos) << r.err;
}

// A word that names no sub-command is named (CLI11 said only "A subcommand is required").
TEST(CommandWord, UnknownCommandIsNamedWithTheCommands) {
    ProcessResult r = run_aj({"frobnicate"});
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_EQ(r.err.rfind("aurora-jail: unknown command 'frobnicate'", 0), 0u) << r.err;
    EXPECT_NE(r.err.find("commands: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("submit"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    r = run_aj({"staus"});
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_NE(r.err.find("unknown command 'staus' (did you mean status?)"), std::string::npos) << r.err;
}

// Below a command: CLI11 said "The following argument was not expected: --jsn" and, for
// `policy shw`, "A subcommand is required".
TEST(CommandWord, UnknownOptionsAndNestedCommandsAreNamedWithASuggestion) {
    ProcessResult r = run_aj({"status", "--jsn"});
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_EQ(r.err.rfind("aurora-jail: status: unknown option --jsn (did you mean --json?)", 0), 0u) << r.err;
    r = run_aj({"policy", "show", "--policy-dri", "x"});
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_EQ(r.err.rfind("aurora-jail: policy show: unknown option --policy-dri (did you mean --policy-dir?)", 0), 0u)
        << r.err;
    r = run_aj({"policy", "shw"});
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_EQ(r.err.rfind("aurora-jail: unknown policy command 'shw' (did you mean show?)", 0), 0u) << r.err;
}

// Which state directory a command used: StateDir creates its layout on first use.
bool has_layout(const std::string& dir) {
    struct stat st{};
    return ::stat((dir + "/plugins").c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// `aurora-jail plugins` with `words` before it and $AURORA_JAIL_STATE_DIR = env_dir
// (unset when empty), through env(1) so that the test's own environment cannot leak in.
ProcessResult plugins_with(const std::vector<std::string>& before, const std::vector<std::string>& after,
                           const std::string& env_dir) {
    std::vector<std::string> argv{"/usr/bin/env", "-u", "AURORA_JAIL_STATE_DIR"};
    if (!env_dir.empty()) argv.push_back("AURORA_JAIL_STATE_DIR=" + env_dir);
    argv.push_back(aj::test::aj_bin());
    argv.insert(argv.end(), before.begin(), before.end());
    argv.emplace_back("plugins");
    argv.insert(argv.end(), after.begin(), after.end());
    return aj::test::run_process(argv);
}

// Precedence: the command's --state-dir > the global one (before the command) >
// $AURORA_JAIL_STATE_DIR > the default.
TEST(GlobalOptions, StateDirBeforeTheCommandAndFromTheEnvironment) {
    aj::test::TempDir tmp;
    const std::string global = tmp.path() + "/global", env = tmp.path() + "/env", own = tmp.path() + "/own";

    ProcessResult r = plugins_with({"--state-dir", global}, {}, env);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(has_layout(global)) << "the global --state-dir was not used";
    EXPECT_FALSE(has_layout(env)) << "the environment won over the global option";

    r = plugins_with({}, {}, env);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(has_layout(env)) << "$AURORA_JAIL_STATE_DIR was not used";

    r = plugins_with({"--state-dir=" + global}, {"--state-dir", own}, env);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(has_layout(own)) << "the command's own --state-dir lost to the global one";

    r = aj::test::run_aj({"--state-dir"});
    EXPECT_EQ(r.exit_code, 125);
    EXPECT_EQ(r.err.rfind("aurora-jail: --state-dir needs a directory", 0), 0u) << r.err;
}

}  // namespace
