#include "runner/manifest.hpp"

#include <set>

#include "policy/error.hpp"
#include "policy/json_text.hpp"

namespace aj::runner {

namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& source, std::string_view pointer,
                       std::string_view what) {
    throw Error(source + ": " + std::string(pointer) + ": " + std::string(what));
}

bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

std::string get_string(const json& obj, const char* key, const std::string& source,
                       bool required, std::size_t max_len) {
    auto it = obj.find(key);
    std::string pointer = std::string("/") + key;
    if (it == obj.end()) {
        if (required) fail(source, pointer, "missing (required)");
        return {};
    }
    if (!it->is_string()) fail(source, pointer, std::string("expected a string, got ") + it->type_name());
    const auto& s = it->get_ref<const std::string&>();
    if (required && s.empty()) fail(source, pointer, "must not be empty");
    if (s.size() > max_len) fail(source, pointer, "longer than " + std::to_string(max_len) + " bytes");
    if (has_nul(s)) fail(source, pointer, "contains a NUL byte");
    return s;
}

}  // namespace

bool is_safe_name(std::string_view name, std::size_t max_len) {
    if (name.empty() || name.size() > max_len) return false;
    auto alnum = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    };
    // The first character being alphanumeric already rules out ".", ".." and hidden names.
    if (!alnum(name[0])) return false;
    for (char c : name)
        if (!alnum(c) && c != '.' && c != '_' && c != '-') return false;
    return name.find("..") == std::string_view::npos;
}

void check_safe_name(std::string_view name, std::string_view what, std::size_t max_len) {
    if (is_safe_name(name, max_len)) return;
    std::string shown;
    for (char c : name.substr(0, 80)) {
        if (c >= 0x20 && c < 0x7f) shown += c;
        else shown += '?';
    }
    throw Error(std::string(what) + " \"" + shown + "\" is not a safe name (want " +
                "[A-Za-z0-9][A-Za-z0-9._-]{0," + std::to_string(max_len - 1) + "}, no \"..\")");
}

bool is_safe_relative_path(std::string_view path) {
    if (path.empty() || path.front() == '/' || has_nul(path) || path.size() > 4096) return false;
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string_view::npos) end = path.size();
        std::string_view part = path.substr(start, end - start);
        if (part.empty() || part == "." || part == "..") return false;
        start = end + 1;
    }
    return true;
}

Manifest parse_manifest(std::string_view json_text, const std::string& source) {
    if (json_text.size() > kMaxManifestBytes)
        fail(source, "", "larger than " + std::to_string(kMaxManifestBytes) + " bytes");
    // The policy reader's strict parser: line and column of a syntax error, repeated keys
    // refused, nesting bounded.
    const json doc = policy::read_json_text(json_text, source);
    if (!doc.is_object()) fail(source, "", std::string("expected an object, got ") + doc.type_name());

    // Unknown keys are errors, as in policies: a typo must not silently change meaning.
    static const std::set<std::string> known{"id", "name", "version", "description",
                                             "entrypoint", "policy"};
    for (const auto& [key, value] : doc.items())
        if (!known.count(key)) fail(source, "/" + key, "unknown key");

    Manifest m;
    m.id = get_string(doc, "id", source, true, 64);
    if (!is_safe_name(m.id)) {
        try {
            check_safe_name(m.id, "id");
        } catch (const Error& e) {
            fail(source, "/id", e.what());
        }
    }
    m.name = get_string(doc, "name", source, true, 256);
    m.version = get_string(doc, "version", source, true, 64);
    m.description = get_string(doc, "description", source, false, 4096);
    if (doc.contains("policy")) {
        std::string policy = get_string(doc, "policy", source, true, 64);
        if (!is_safe_name(policy)) fail(source, "/policy", "not a safe policy name");
        m.policy = policy;
    }

    auto entry = doc.find("entrypoint");
    if (entry == doc.end()) fail(source, "/entrypoint", "missing (required)");
    if (entry->is_string()) {
        const auto& path = entry->get_ref<const std::string&>();
        if (!is_safe_relative_path(path))
            fail(source, "/entrypoint",
                 "must be a relative path inside the package (no \"..\", \".\", empty "
                 "components, leading \"/\" or NUL)");
        m.entry_path = path;
    } else if (entry->is_array()) {
        if (entry->empty()) fail(source, "/entrypoint", "argv array must not be empty");
        if (entry->size() > 256) fail(source, "/entrypoint", "more than 256 arguments");
        for (std::size_t i = 0; i < entry->size(); ++i) {
            const auto& arg = (*entry)[i];
            std::string pointer = "/entrypoint/" + std::to_string(i);
            if (!arg.is_string()) fail(source, pointer, std::string("expected a string, got ") + arg.type_name());
            const auto& s = arg.get_ref<const std::string&>();
            if (has_nul(s)) fail(source, pointer, "contains a NUL byte");
            if (s.size() > 4096) fail(source, pointer, "longer than 4096 bytes");
            if (i == 0 && s.empty()) fail(source, pointer, "program must not be empty");
            m.entry_argv.push_back(s);
        }
    } else {
        fail(source, "/entrypoint",
             std::string("expected a path string or an argv array, got ") + entry->type_name());
    }
    return m;
}

std::vector<std::string> entry_command(const Manifest& m) {
    if (m.entry_path) return {std::string(kPluginMount) + "/" + *m.entry_path};
    return m.entry_argv;
}

nlohmann::json to_json(const Manifest& m) {
    json j{{"id", m.id}, {"name", m.name}, {"version", m.version}};
    if (!m.description.empty()) j["description"] = m.description;
    if (m.entry_path) j["entrypoint"] = *m.entry_path;
    else j["entrypoint"] = m.entry_argv;
    if (m.policy) j["policy"] = *m.policy;
    return j;
}

}  // namespace aj::runner
