// Where aurora-runc's errors and warnings go: runc's --log FILE and --log-format text|json.
// Engines (conmon, containerd's shim) read the json lines, {"level":"error","msg":...}, when
// a command fails.
#pragma once

#include <string>

namespace aj::oci {

class Log {
public:
    // Empty `file`: stderr. Throws Error when the file cannot be opened for appending.
    Log(const std::string& file, bool json);
    ~Log();
    Log(const Log&) = delete;
    Log& operator=(const Log&) = delete;

    void error(const std::string& msg);
    void warning(const std::string& msg);
    // The fd written to (2 or the --log file's): a process closing what it inherited keeps it.
    int fd() const { return fd_; }

private:
    void write(const char* level, const std::string& msg);
    int fd_ = 2;
    bool own_fd_ = false;
    bool json_ = false;
};

}  // namespace aj::oci
