// Test support: run a program (usually the aurora-jail binary) and capture its result.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace aj::test {

struct ProcessResult {
    int exit_code = -1;   // exit status, or 128+N when killed by signal N
    std::string out;
    std::string err;
};

// Runs argv with the given extra environment ("NAME=VALUE"), stdin from `input`,
// killing it after timeout_sec. Throws on spawn failure.
ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::string& input = "",
                          const std::vector<std::string>& extra_env = {},
                          int timeout_sec = 60);

// The aurora-jail binary under test ($AJ_BIN).
std::string aj_bin();
// $AJ_SOURCE_DIR/relative: a file of the source tree (test data). Throws when ctest did
// not set AJ_SOURCE_DIR.
std::string source_path(const std::string& relative);
// Runs aurora-jail with args.
ProcessResult run_aj(const std::vector<std::string>& args, const std::string& input = "",
                     int timeout_sec = 60);

// A fresh temporary directory (under $TMPDIR or /tmp), removed recursively on destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    // Writes a file below the directory and returns its full path.
    std::string write(const std::string& name, const std::string& content, int mode = 0644) const;

private:
    std::string path_;
};

bool running_as_root();

}  // namespace aj::test
