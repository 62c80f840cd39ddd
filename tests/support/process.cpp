#include "tests/support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "policy/sys.hpp"

extern char** environ;

namespace aj::test {

namespace {

void set_nonblock(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

}  // namespace

ProcessResult run_process(const std::vector<std::string>& argv, const std::string& input,
                          const std::vector<std::string>& extra_env, int timeout_sec) {
    auto in = sys::make_pipe("pipe");
    auto out = sys::make_pipe("pipe");
    auto err = sys::make_pipe("pipe");

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in.read.get(), 0);
    posix_spawn_file_actions_adddup2(&fa, out.write.get(), 1);
    posix_spawn_file_actions_adddup2(&fa, err.write.get(), 2);

    std::vector<std::string> env_store;
    for (char** e = environ; *e; ++e) env_store.emplace_back(*e);
    for (const auto& e : extra_env) env_store.push_back(e);
    std::vector<char*> envp;
    for (auto& e : env_store) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = argv;
    std::vector<char*> argp;
    for (auto& a : args) argp.push_back(a.data());
    argp.push_back(nullptr);

    pid_t pid = -1;
    int rc = posix_spawn(&pid, argp[0], &fa, nullptr, argp.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) throw std::runtime_error("posix_spawn " + argv[0] + ": " + errno_text(rc));
    in.read.reset();
    out.write.reset();
    err.write.reset();

    set_nonblock(in.write.get());
    set_nonblock(out.read.get());
    set_nonblock(err.read.get());
    ProcessResult result;
    std::size_t written = 0;
    if (input.empty()) in.write.reset();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_sec);
    bool killed = false;
    while (out.read || err.read) {
        std::vector<pollfd> fds;
        if (out.read) fds.push_back({out.read.get(), POLLIN, 0});
        if (err.read) fds.push_back({err.read.get(), POLLIN, 0});
        if (in.write) fds.push_back({in.write.get(), POLLOUT, 0});
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            if (!killed) ::kill(pid, SIGKILL);
            killed = true;
            deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
            continue;
        }
        int n = ::poll(fds.data(), fds.size(), static_cast<int>(left.count()));
        if (n < 0 && errno != EINTR) throw std::runtime_error("poll failed");
        for (auto& p : fds) {
            if (!p.revents) continue;
            if (p.fd == in.write.get()) {
                ssize_t w = ::write(p.fd, input.data() + written, input.size() - written);
                if (w > 0) written += static_cast<std::size_t>(w);
                if (w < 0 || written == input.size()) in.write.reset();
                continue;
            }
            char buf[8192];
            ssize_t r = ::read(p.fd, buf, sizeof buf);
            if (r > 0) {
                (p.fd == out.read.get() ? result.out : result.err).append(buf, static_cast<std::size_t>(r));
            } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                if (p.fd == out.read.get()) out.read.reset(); else err.read.reset();
            }
        }
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

std::string aj_bin() {
    const char* bin = std::getenv("AJ_BIN");
    if (!bin || !*bin) throw std::runtime_error("AJ_BIN is not set (run the tests through ctest)");
    return bin;
}

std::string source_path(const std::string& relative) {
    const char* src = std::getenv("AJ_SOURCE_DIR");
    if (!src || !*src) throw std::runtime_error("AJ_SOURCE_DIR is not set (run the tests through ctest)");
    return std::string(src) + "/" + relative;
}

ProcessResult run_aj(const std::vector<std::string>& args, const std::string& input,
                     int timeout_sec) {
    std::vector<std::string> argv{aj_bin()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, input, {}, timeout_sec);
}

TempDir::TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/aj-test.XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp: " + errno_text(errno));
    ::chmod(tmpl.c_str(), 0755);
    path_ = tmpl;
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

std::string TempDir::write(const std::string& name, const std::string& content, int mode) const {
    std::string p = path_ + "/" + name;
    std::filesystem::create_directories(std::filesystem::path(p).parent_path());
    auto fd = sys::open_fd(p, O_WRONLY | O_CREAT | O_TRUNC, "create", mode);
    sys::write_all(fd.get(), content, "write " + p);
    ::fchmod(fd.get(), static_cast<mode_t>(mode));
    return p;
}

bool running_as_root() { return ::geteuid() == 0; }

}  // namespace aj::test
