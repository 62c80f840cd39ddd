#include "runner/daemonize.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include "policy/sys.hpp"
#include "policy/error.hpp"
#include "policy/atomic_write.hpp"

namespace aj::runner {

void redirect_fd(int target, const std::string& path, int flags) {
    sys::UniqueFd fd = sys::open_fd(path, flags | O_NOFOLLOW, "opening " + path, 0600);
    sys::check(::dup2(fd.get(), target), "dup2 " + path);
}

void fork_detached(const std::function<int(int)>& body, const std::string& not_ready) {
    sys::Pipe ready = sys::make_pipe("creating the ready pipe");
    std::fflush(nullptr);
    pid_t child = ::fork();
    if (child < 0) throw_errno("fork for a detached process");
    if (child == 0) {
        ready.read.reset();
        int code = kExitInternal;
        try {
            if (::setsid() < 0) throw_errno("setsid");
            pid_t detached = ::fork();
            if (detached < 0) throw_errno("second fork for a detached process");
            if (detached != 0) ::_exit(0);
            code = body(ready.write.get());
        } catch (const Error& e) {
            std::fprintf(stderr, "aurora-jail: %s\n", e.what());
            code = e.exit_code();
        } catch (const std::exception& e) {
            std::fprintf(stderr, "aurora-jail: %s\n", e.what());
        }
        std::fflush(nullptr);
        ::_exit(code);
    }
    ready.write.reset();
    int status = 0;
    sys::retry_eintr([&] { return ::waitpid(child, &status, 0); });
    char byte = 0;
    ssize_t n = sys::retry_eintr([&] { return ::read(ready.read.get(), &byte, 1); });
    if (n != 1) throw Error(not_ready);
}

int daemonize(const std::string& log_file, const std::function<int(int)>& body) {
    fork_detached(
        [&](int ready_fd) {
            redirect_fd(0, "/dev/null", O_RDONLY);
            redirect_fd(1, log_file, O_WRONLY | O_CREAT | O_APPEND);
            redirect_fd(2, log_file, O_WRONLY | O_CREAT | O_APPEND);
            sys::check(::chdir("/"), "chdir /");
            return body(ready_fd);
        },
        "host daemon did not start (see " + log_file + ")");
    return 0;
}

void write_pidfile(const std::string& path) {
    sys::write_file_atomic(path, std::to_string(::getpid()) + "\n", 0644);
}

}  // namespace aj::runner
