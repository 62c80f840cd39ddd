#include "helper/exec.hpp"

#include <unistd.h>

#include <cerrno>

#include "helper/env.hpp"

namespace aj::helper {

namespace {
constexpr const char* kDefaultPath = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin";
}

int exec_command(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
    if (argv.empty() || argv[0].empty()) return ENOENT;
    std::vector<char*> args, envp;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);

    const std::string& cmd = argv[0];
    if (cmd.find('/') != std::string::npos) {
        ::execve(cmd.c_str(), args.data(), envp.data());
        return errno;
    }
    const std::string* path_var = find_variable(env, "PATH");
    std::string path = path_var ? path_var->substr(5) : kDefaultPath;
    bool saw_eacces = false;
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t end = path.find(':', start);
        if (end == std::string::npos) end = path.size();
        std::string dir = path.substr(start, end - start);
        std::string candidate = (dir.empty() ? "." : dir) + "/" + cmd;
        ::execve(candidate.c_str(), args.data(), envp.data());
        int err = errno;
        if (err == EACCES) {
            saw_eacces = true;
        } else if (err != ENOENT && err != ENOTDIR && err != ESTALE && err != ENODEV && err != ETIMEDOUT) {
            return err;  // found it but cannot run it (ENOEXEC, ...): no point searching on
        }
        start = end + 1;
    }
    return saw_eacces ? EACCES : ENOENT;
}

int exit_code_for_exec_errno(int err) { return (err == ENOENT || err == ENOTDIR) ? 127 : 126; }

}  // namespace aj::helper
