#include "helper/env.hpp"

#include <map>

namespace aj::helper {

std::vector<std::string> build_environment(const policy::Environment& env, const char* const* caller_env) {
    std::map<std::string, std::string> out;
    for (const auto& name : env.pass) {
        for (const char* const* e = caller_env; e && *e; ++e) {
            std::string_view entry(*e);
            if (entry.size() > name.size() && entry.starts_with(name) && entry[name.size()] == '=') {
                out[name] = std::string(entry.substr(name.size() + 1));
                break;
            }
        }
    }
    for (const auto& [name, value] : env.set) out[name] = value;
    std::vector<std::string> list;
    for (const auto& [name, value] : out) list.push_back(name + "=" + value);
    return list;
}

const std::string* find_variable(const std::vector<std::string>& env, const std::string& name) {
    for (const auto& entry : env)
        if (entry.size() > name.size() && entry.starts_with(name) && entry[name.size()] == '=') return &entry;
    return nullptr;
}

}  // namespace aj::helper
