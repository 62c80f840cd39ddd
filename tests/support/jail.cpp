#include "tests/support/jail.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace aj::test {

std::string self_exe() { return std::filesystem::read_symlink("/proc/self/exe").string(); }

std::string self_dir() { return std::filesystem::path(self_exe()).parent_path().string(); }

std::string write_policy(const TempDir& dir, const nlohmann::json& extra, const std::string& name) {
    nlohmann::json paths = nlohmann::json::array();
    for (const char* p : {"/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32"}) {
        struct stat st {};
        if (::lstat(p, &st) == 0) paths.push_back(p);
    }
    // Only the binary itself: its directory may hold the tests' temporary dirs (as nobody).
    paths.push_back(self_exe());
    nlohmann::json policy = {
        {"allowed_paths", paths},
        {"max_memory_mb", nullptr},
        {"timeout_sec", 120},
        {"environment", {{"set", {{"PATH", "/usr/bin:/bin"}}}}},
    };
    for (const auto& [key, value] : extra.items()) {
        if (key == "allowed_paths")
            for (const auto& p : value) policy["allowed_paths"].push_back(p);
        else
            policy[key] = value;
    }
    return dir.write(name, policy.dump());
}

std::vector<std::string> probe_args(const std::string& policy, const std::string& probe,
                                    const std::vector<std::string>& args, const std::vector<std::string>& options) {
    std::vector<std::string> out{"run", "--policy", policy};
    out.insert(out.end(), options.begin(), options.end());
    out.insert(out.end(), {"--", self_exe(), "--aj-probe", probe});
    out.insert(out.end(), args.begin(), args.end());
    return out;
}

std::vector<std::string> sh_args(const std::string& policy, const std::string& script,
                                 const std::vector<std::string>& options) {
    std::vector<std::string> out{"run", "--policy", policy};
    out.insert(out.end(), options.begin(), options.end());
    out.insert(out.end(), {"--", "/bin/sh", "-c", script});
    return out;
}

Spawned::Spawned(const std::vector<std::string>& aj_args, int stdin_fd, bool new_session) {
    std::vector<std::string> argv{aj_bin()};
    argv.insert(argv.end(), aj_args.begin(), aj_args.end());
    std::vector<char*> argp;
    for (auto& a : argv) argp.push_back(a.data());
    argp.push_back(nullptr);
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork");
    if (pid_ == 0) {
        if (new_session) {
            ::setsid();
            if (stdin_fd >= 0) ::ioctl(stdin_fd, TIOCSCTTY, 0);
        }
        int in = stdin_fd >= 0 ? stdin_fd : ::open("/dev/null", O_RDONLY);
        ::dup2(in, 0);
        ::dup2(fds[1], 1);
        ::dup2(fds[1], 2);
        ::execv(argp[0], argp.data());
        ::_exit(127);
    }
    ::close(fds[1]);
    out_ = fds[0];
}

Spawned::~Spawned() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) ::close(out_);
}

void Spawned::read_some(int timeout_ms) {
    if (out_ < 0) {
        ::usleep(static_cast<useconds_t>(timeout_ms) * 1000);
        return;
    }
    pollfd p{out_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return;
    char buf[4096];
    ssize_t n = ::read(out_, buf, sizeof buf);
    if (n > 0) {
        output_.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0) {
        ::close(out_);
        out_ = -1;
    }
}

bool Spawned::wait_for(const std::string& marker, int timeout_sec) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_sec);
    while (output_.find(marker) == std::string::npos) {
        if (std::chrono::steady_clock::now() > deadline || out_ < 0) return output_.find(marker) != std::string::npos;
        read_some(100);
    }
    return true;
}

int Spawned::wait(int timeout_sec) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_sec);
    int status = 0;
    for (;;) {
        pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) break;
        if (std::chrono::steady_clock::now() > deadline) ::kill(pid_, SIGKILL);
        read_some(50);
    }
    pid_ = -1;
    while (out_ >= 0) read_some(100);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::vector<std::string> without_cgroups(std::vector<std::string> argv) {
    if (::geteuid() != 0) return argv;
    argv.insert(argv.begin(), {"/usr/bin/unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c",
                               "umount -R /sys/fs/cgroup && exec \"$0\" \"$@\""});
    return argv;
}

std::vector<pid_t> pids_with_cmdline(const std::string& needle) {
    std::vector<pid_t> out;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        const std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream f(entry.path() / "cmdline");
        std::stringstream ss;
        ss << f.rdbuf();
        std::string cmd = ss.str();
        for (char& c : cmd)
            if (c == '\0') c = ' ';
        if (cmd.find(needle) != std::string::npos) out.push_back(std::stoi(name));
    }
    return out;
}

}  // namespace aj::test
