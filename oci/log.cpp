#include "oci/log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include <nlohmann/json.hpp>

#include "policy/error.hpp"
#include "policy/sys.hpp"
#include "runner/report.hpp"

namespace aj::oci {

Log::Log(const std::string& file, bool json) : json_(json) {
    if (file.empty()) return;
    fd_ = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd_ < 0) throw_errno("--log " + file);
    own_fd_ = true;
}

Log::~Log() {
    if (own_fd_) ::close(fd_);
}

void Log::error(const std::string& msg) {
    write("error", msg);
    // The caller sees the reason on its terminal too, as runc prints it.
    if (own_fd_) std::fprintf(stderr, "aurora-runc: %s\n", msg.c_str());
}

void Log::warning(const std::string& msg) { write("warning", msg); }

void Log::write(const char* level, const std::string& msg) {
    std::string line;
    if (json_) {
        line = nlohmann::json{{"level", level}, {"msg", msg}, {"time", runner::utc_timestamp()}}.dump(
                   -1, ' ', false, nlohmann::json::error_handler_t::replace) +
               "\n";
    } else {
        line = std::string("aurora-runc: ") + (std::string(level) == "error" ? "" : std::string(level) + ": ") + msg + "\n";
    }
    try {
        sys::write_all(fd_, line, "writing the log");
    } catch (const Error&) {
        // Nowhere left to report a failing log to; the exit status still tells.
    }
}

}  // namespace aj::oci
