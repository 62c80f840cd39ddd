#include "policy/store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "policy/atomic_write.hpp"
#include "policy/dir_list.hpp"
#include "policy/error.hpp"
#include "policy/parse.hpp"
#include "policy/sys.hpp"
#include "policy/text.hpp"

namespace aj::policy {
namespace {

void require_name(const std::string& name) {
    if (!valid_policy_name(name))
        throw Error("invalid policy name " + quote(name) +
                    ": use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit, no \"..\"");
}

}  // namespace

bool valid_policy_name(const std::string& name) {
    if (name.empty() || name.size() > 64 || name.find("..") != std::string::npos) return false;
    auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
    if (!alnum(name.front())) return false;
    return std::all_of(name.begin(), name.end(),
                       [&](char c) { return alnum(c) || c == '.' || c == '_' || c == '-'; });
}

std::string write_policy(const std::string& dir, const std::string& name,
                         const std::string& policy_json, const std::string& source) {
    require_name(name);
    // Validate first: an invalid policy must never replace a valid one.
    parse_policy(policy_json, source);

    std::string final_path = dir + "/" + name + ".json";
    std::string text = policy_json;
    if (text.empty() || text.back() != '\n') text += '\n';
    // The temp name starts with '.', so list_policies never shows a half-written file.
    try {
        const sys::UniqueFd dir_fd = sys::open_fd(dir, O_RDONLY | O_DIRECTORY, "opening directory");
        sys::write_file_atomic(dir_fd.get(), name + ".json", text, 0644);
    } catch (const Error& e) {
        throw e.wrap("writing policy " + name);
    }
    return final_path;
}

Policy load_named_policy(const std::string& dir, const std::string& name) {
    require_name(name);
    const std::string path = dir + "/" + name + ".json";
    struct stat st {};
    if (stat(path.c_str(), &st) != 0 && errno == ENOENT)
        throw Error("policy " + quote(name) + " not found in " + dir + " (write it with `aurora-jail policy write`)");
    return load_policy_file(path);
}

std::vector<std::string> list_policies(const std::string& dir) {
    std::vector<std::string> names;
    sys::UniqueFd fd(sys::retry_eintr([&] { return ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); }));
    if (!fd) {
        if (errno == ENOENT) return names;
        throw_errno("listing policies in " + dir);
    }
    for (const std::string& file : sys::list_dir(fd.get(), "policies in " + dir)) {
        if (file.size() > 5 && file.ends_with(".json")) {
            std::string name = file.substr(0, file.size() - 5);
            if (valid_policy_name(name)) names.push_back(name);
        }
    }
    std::sort(names.begin(), names.end());
    return names;
}

ResolvedPolicy resolve_policy(const std::string& file_or_name, const std::vector<std::string>& dirs) {
    if (file_or_name.find('/') != std::string::npos || file_or_name.ends_with(".json"))
        return {file_or_name, load_policy_file(file_or_name)};
    require_name(file_or_name);
    std::string searched;
    for (const auto& dir : dirs) {
        if (dir.empty()) continue;
        const std::string path = dir + "/" + file_or_name + ".json";
        struct stat st {};
        if (stat(path.c_str(), &st) == 0) return {path, load_policy_file(path)};
        if (errno != ENOENT) throw_errno("looking up policy " + quote(file_or_name) + " at " + path);
        searched += (searched.empty() ? "" : ", ") + dir;
    }
    throw Error("policy " + quote(file_or_name) + " not found (searched: " +
                (searched.empty() ? std::string("no policy directory") : searched) + ")");
}

}  // namespace aj::policy
