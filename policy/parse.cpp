// JSON -> Policy. Every key is known, every value checked; any problem is one line
// "SOURCE: /json/pointer: problem". Absent keys keep the hardened defaults of
// default_policy(), so the prototype's flat four-key files load unchanged.
#include "policy/parse.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>

#include "policy/default_policy.hpp"
#include "policy/error.hpp"
#include "policy/host_binds.hpp"
#include "policy/json_text.hpp"
#include "policy/limits_table.hpp"
#include "policy/syscall_names.hpp"
#include "policy/text.hpp"

namespace aj::policy {
namespace {

using json = nlohmann::json;

constexpr std::size_t kMaxPathBytes = 4095;      // PATH_MAX - 1
constexpr std::size_t kMaxListEntries = 4096;
constexpr std::size_t kMaxEnvValueBytes = 32768;

class Reader {
public:
    explicit Reader(const std::string& source) : source_(source) {}

    [[noreturn]] void fail(const std::string& pointer, const std::string& problem) const {
        throw Error(source_ + ": " + (pointer.empty() ? "/" : pointer) + ": " + problem);
    }

    void policy(const json& root, Policy& p) const;

private:
    static std::string type_name(const json& v) {
        if (v.is_number_unsigned()) return "a non-negative integer";
        if (v.is_number_integer()) return "a negative integer";
        if (v.is_number_float()) return "a fractional number";
        return std::string(v.type_name()) == "array" ? "an array"
             : std::string(v.type_name()) == "object" ? "an object"
             : std::string("a ") + v.type_name();
    }
    // "-5", "\"abc\"", "an object": a short, one-line rendering of the offending value.
    static std::string shown(const json& v) {
        if (v.is_string()) return quote(v.get_ref<const std::string&>(), 60);
        if (v.is_number() || v.is_boolean() || v.is_null()) return v.dump();
        return type_name(v);
    }

    bool boolean(const json& v, const std::string& ptr) const {
        if (!v.is_boolean()) fail(ptr, "expected true or false, got " + shown(v));
        return v.get<bool>();
    }
    const std::string& string(const json& v, const std::string& ptr) const {
        if (!v.is_string()) fail(ptr, "expected a string, got " + shown(v));
        return v.get_ref<const std::string&>();
    }
    const json::array_t& array(const json& v, const std::string& ptr) const {
        if (!v.is_array()) fail(ptr, "expected an array, got " + shown(v));
        if (v.size() > kMaxListEntries)
            fail(ptr, "more than " + std::to_string(kMaxListEntries) + " entries");
        return v.get_ref<const json::array_t&>();
    }
    const json::object_t& object(const json& v, const std::string& ptr,
                                 const std::vector<std::string>& known) const {
        if (!v.is_object()) fail(ptr, "expected an object, got " + shown(v));
        const auto& obj = v.get_ref<const json::object_t&>();
        for (const auto& [key, value] : obj) {
            if (std::find(known.begin(), known.end(), key) != known.end()) continue;
            std::string guess = nearest(key, known);
            fail(ptr + "/" + pointer_token(key),
                 "unknown key" + (guess.empty() ? std::string() : " (did you mean " + guess + "?)"));
        }
        return obj;
    }

    void allowed_paths(const json& v, const std::string& ptr, Policy& p) const;
    PathRule path_rule(const json& v, const std::string& ptr) const;
    std::vector<std::string> syscall_list(const json& v, const std::string& ptr) const;
    SyscallAction action(const json& v, const std::string& ptr) const;
    void integer_limit(const IntegerLimit& lim, const json& v, Limits& limits) const;
    std::optional<double> cpus(const json& v, const std::string& ptr) const;
    std::string hostname(const json& v, const std::string& ptr) const;
    Environment environment(const json& v, const std::string& ptr, Environment env) const;
    std::string env_name(const json& v, const std::string& ptr) const;

    const std::string& source_;
};

std::string check_path(const std::string& path) {
    if (path.empty()) return "empty path";
    if (path.size() > kMaxPathBytes) return "path longer than " + std::to_string(kMaxPathBytes) + " bytes";
    if (path.front() != '/') return "path must be absolute: " + quote(path);
    for (unsigned char c : path) {
        // NUL would truncate the path at the syscall; other control bytes would break
        // /proc/self/mountinfo and one-line diagnostics.
        if (c < 0x20 || c == 0x7f) return "path contains a control character: " + quote(path);
    }
    if (path == "/") return {};  // normal; refused_host_bind() says why it is refused
    if (path.back() == '/') return "path must not end in '/': " + quote(path);
    if (path.find("//") != std::string::npos) return "path must not contain \"//\": " + quote(path);
    std::size_t start = 1;
    while (start <= path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string::npos) end = path.size();
        std::string_view part(path.data() + start, end - start);
        if (part == "." || part == "..")
            return "path must be normal (no \".\" or \"..\" components): " + quote(path);
        start = end + 1;
    }
    return {};
}

PathRule Reader::path_rule(const json& v, const std::string& ptr) const {
    PathRule rule;
    std::string path_ptr = ptr;
    if (v.is_string()) {
        rule.path = v.get<std::string>();
    } else if (v.is_object()) {
        const auto& obj = object(v, ptr, {"path", "mode"});
        auto path_it = obj.find("path");
        if (path_it == obj.end()) fail(ptr, "missing key \"path\"");
        path_ptr = ptr + "/path";
        rule.path = string(path_it->second, path_ptr);
        if (auto mode_it = obj.find("mode"); mode_it != obj.end()) {
            const std::string& mode = string(mode_it->second, ptr + "/mode");
            if (mode == "ro") rule.mode = PathMode::ReadOnly;
            else if (mode == "rw") rule.mode = PathMode::ReadWrite;
            else fail(ptr + "/mode", "expected \"ro\" or \"rw\", got " + quote(mode));
        }
    } else {
        fail(ptr, "expected a path string or {\"path\": ..., \"mode\": \"ro\"|\"rw\"}, got " + shown(v));
    }
    if (std::string problem = check_path(rule.path); !problem.empty()) fail(path_ptr, problem);
    if (std::string problem = refused_host_bind(rule); !problem.empty()) fail(path_ptr, problem);
    return rule;
}

void Reader::allowed_paths(const json& v, const std::string& ptr, Policy& p) const {
    p.allowed_paths.clear();
    std::set<std::string> seen;
    const auto& arr = array(v, ptr);
    for (std::size_t i = 0; i < arr.size(); ++i) {
        std::string item = ptr + "/" + std::to_string(i);
        PathRule rule = path_rule(arr[i], item);
        if (!seen.insert(rule.path).second) fail(item, "duplicate path " + quote(rule.path));
        p.allowed_paths.push_back(std::move(rule));
    }
}

std::vector<std::string> Reader::syscall_list(const json& v, const std::string& ptr) const {
    std::vector<std::string> out;
    std::set<std::string> seen;
    const auto& arr = array(v, ptr);
    for (std::size_t i = 0; i < arr.size(); ++i) {
        std::string item = ptr + "/" + std::to_string(i);
        const std::string& name = string(arr[i], item);
        if (std::string problem = check_syscall_entry(name); !problem.empty()) fail(item, problem);
        if (!seen.insert(name).second) fail(item, "duplicate entry " + quote(name));
        out.push_back(name);
    }
    return out;
}

SyscallAction Reader::action(const json& v, const std::string& ptr) const {
    SyscallAction a;
    std::string kind_ptr = ptr;
    std::string kind;
    const json* errno_value = nullptr;
    if (v.is_string()) {
        kind = v.get<std::string>();
    } else if (v.is_object()) {
        const auto& obj = object(v, ptr, {"action", "errno"});
        auto it = obj.find("action");
        if (it == obj.end()) fail(ptr, "missing key \"action\"");
        kind_ptr = ptr + "/action";
        kind = string(it->second, kind_ptr);
        if (auto e = obj.find("errno"); e != obj.end()) errno_value = &e->second;
    } else {
        fail(ptr, "expected \"errno\", \"kill\", \"log\" or {\"action\": \"errno\", \"errno\": NAME}, got " + shown(v));
    }
    if (kind == "errno") a.kind = BlockedAction::Errno;
    else if (kind == "kill") a.kind = BlockedAction::Kill;
    else if (kind == "log") a.kind = BlockedAction::Log;
    else fail(kind_ptr, "expected \"errno\", \"kill\" or \"log\", got " + quote(kind));
    if (errno_value) {
        if (a.kind != BlockedAction::Errno) fail(ptr + "/errno", "only meaningful with \"action\": \"errno\"");
        const std::string& name = string(*errno_value, ptr + "/errno");
        int e = errno_from_name(name);
        // SECCOMP_RET_DATA carries 16 bits; glibc's names all fit far below.
        if (e <= 0 || e > 4095) fail(ptr + "/errno", "unknown errno name " + quote(name) + " (e.g. \"EPERM\", \"EACCES\", \"ENOSYS\")");
        a.errno_value = e;
    }
    return a;
}

void Reader::integer_limit(const IntegerLimit& lim, const json& v, Limits& limits) const {
    const std::string ptr = "/" + std::string(lim.key);
    if (v.is_null()) {
        limits.*lim.field = std::nullopt;
        return;
    }
    if (!v.is_number_unsigned())
        fail(ptr, "expected a non-negative integer or null, got " + shown(v));
    std::uint64_t n = v.get<std::uint64_t>();
    if (n < lim.minimum)
        fail(ptr, "must be at least " + std::to_string(lim.minimum) + " (" + std::string(lim.why_minimum) + "); use null for no limit");
    if (n > lim.maximum)
        fail(ptr, std::to_string(n) + " is above the ceiling of " + std::to_string(lim.maximum));
    limits.*lim.field = n;
}

std::optional<double> Reader::cpus(const json& v, const std::string& ptr) const {
    if (v.is_null()) return std::nullopt;
    if (!v.is_number()) fail(ptr, "expected a number of cores (e.g. 0.5) or null, got " + shown(v));
    double d = v.get<double>();
    if (!std::isfinite(d) || d <= 0) fail(ptr, "expected a number of cores greater than 0, got " + shown(v));
    if (d < kMinCpus) fail(ptr, shown(v) + " is below the minimum of 0.01 cores");
    if (d > kMaxCpus) fail(ptr, shown(v) + " is above the ceiling of 4096 cores");
    return d;
}

std::string Reader::hostname(const json& v, const std::string& ptr) const {
    const std::string& h = string(v, ptr);
    auto bad = [&](const std::string& why) { fail(ptr, "invalid hostname " + quote(h) + ": " + why); };
    if (h.empty()) bad("empty");
    if (h.size() > 64) bad("longer than 64 characters");
    std::size_t start = 0;
    while (true) {
        std::size_t end = h.find('.', start);
        if (end == std::string::npos) end = h.size();
        std::string_view label(h.data() + start, end - start);
        if (label.empty()) bad("empty label");
        if (label.size() > 63) bad("label longer than 63 characters");
        if (label.front() == '-' || label.back() == '-') bad("label starts or ends with '-'");
        for (char c : label) {
            bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
            if (!ok) bad("only letters, digits, '-' and '.' are allowed (RFC 1123)");
        }
        if (end == h.size()) break;
        start = end + 1;
    }
    return h;
}

std::string Reader::env_name(const json& v, const std::string& ptr) const {
    const std::string& name = string(v, ptr);
    if (name.empty()) fail(ptr, "empty environment variable name");
    if (name.size() > 256) fail(ptr, "environment variable name longer than 256 bytes");
    for (unsigned char c : name)
        if (c == '=' || c < 0x20 || c == 0x7f)
            fail(ptr, "invalid environment variable name " + quote(name) + " (no '=', NUL or control characters)");
    return name;
}

Environment Reader::environment(const json& v, const std::string& ptr, Environment env) const {
    const auto& obj = object(v, ptr, {"pass", "set"});
    if (auto it = obj.find("pass"); it != obj.end()) {
        env.pass.clear();
        std::set<std::string> seen;
        const auto& arr = array(it->second, ptr + "/pass");
        for (std::size_t i = 0; i < arr.size(); ++i) {
            std::string item = ptr + "/pass/" + std::to_string(i);
            std::string name = env_name(arr[i], item);
            if (!seen.insert(name).second) fail(item, "duplicate name " + quote(name));
            env.pass.push_back(std::move(name));
        }
    }
    if (auto it = obj.find("set"); it != obj.end()) {
        env.set.clear();
        if (!it->second.is_object()) fail(ptr + "/set", "expected an object of NAME: value, got " + shown(it->second));
        const auto& set = it->second.get_ref<const json::object_t&>();
        if (set.size() > kMaxListEntries) fail(ptr + "/set", "too many entries");
        for (const auto& [name, value] : set) {
            std::string item = ptr + "/set/" + pointer_token(name);
            env_name(json(name), item);
            const std::string& s = string(value, item);
            if (s.find('\0') != std::string::npos) fail(item, "value contains a NUL byte");
            if (s.size() > kMaxEnvValueBytes) fail(item, "value longer than " + std::to_string(kMaxEnvValueBytes) + " bytes");
            env.set.emplace(name, s);
        }
    }
    return env;
}

void Reader::policy(const json& root, Policy& p) const {
    std::vector<std::string> known = {"allowed_paths", "blocked_syscalls", "allowed_syscalls",
                                      "blocked_action", "default_deny", "max_cpus", "network",
                                      "hostname", "environment", "allow_fallback", "system_view"};
    for (const auto& lim : integer_limits()) known.emplace_back(lim.key);
    if (!root.is_object()) fail("", "expected a JSON object, got " + shown(root));
    const auto& obj = object(root, "", known);

    for (const auto& [key, v] : obj) {
        const std::string ptr = "/" + key;
        if (key == "allowed_paths") allowed_paths(v, ptr, p);
        else if (key == "blocked_syscalls") p.blocked_syscalls = syscall_list(v, ptr);
        else if (key == "allowed_syscalls") {
            if (v.is_null()) p.allowed_syscalls.reset();
            else p.allowed_syscalls = syscall_list(v, ptr);
        }
        else if (key == "blocked_action") p.action = action(v, ptr);
        else if (key == "default_deny") p.default_deny = boolean(v, ptr);
        else if (key == "max_cpus") p.limits.cpus = cpus(v, ptr);
        else if (key == "network") {
            const std::string& n = string(v, ptr);
            if (n == "none") p.network = NetworkMode::None;
            else if (n == "host") p.network = NetworkMode::Host;
            else fail(ptr, "expected \"none\" or \"host\", got " + quote(n));
        }
        else if (key == "hostname") p.hostname = hostname(v, ptr);
        else if (key == "environment") p.env = environment(v, ptr, p.env);
        else if (key == "allow_fallback") p.allow_fallback = boolean(v, ptr);
        else if (key == "system_view") p.system_view = boolean(v, ptr);
        else {
            for (const auto& lim : integer_limits())
                if (lim.key == key) integer_limit(lim, v, p.limits);
        }
    }

    if (p.allowed_syscalls) {
        if (!p.blocked_syscalls.empty())
            fail("/allowed_syscalls", "cannot be combined with a non-empty blocked_syscalls "
                                      "(allow-list mode blocks everything not listed)");
        int execve = resolve_syscall("execve");
        if (!expand_syscalls(*p.allowed_syscalls).contains(execve))
            fail("/allowed_syscalls", "must include execve: the sandbox starts the command with it");
    }
}

}  // namespace

Policy parse_policy(std::string_view json_text, const std::string& source) {
    json root = read_json_text(json_text, source);
    Policy p = default_policy();
    Reader(source).policy(root, p);
    return p;
}

std::string read_policy_text(const std::string& path) {
    // O_NONBLOCK: a FIFO planted where a policy is expected must not hang the runner.
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) throw_errno("reading policy " + path);
    struct Closer {
        int fd;
        ~Closer() { close(fd); }
    } closer{fd};
    struct stat st {};
    if (fstat(fd, &st) != 0) throw_errno("reading policy " + path);
    if (!S_ISREG(st.st_mode)) throw Error("reading policy " + path + ": not a regular file");
    std::string text;
    char buf[65536];
    while (true) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_errno("reading policy " + path);
        if (n == 0) break;
        text.append(buf, static_cast<std::size_t>(n));
        if (text.size() > kMaxPolicyBytes)
            throw Error(path + ": policy is more than the limit of " + std::to_string(kMaxPolicyBytes) + " bytes");
    }
    return text;
}

Policy load_policy_file(const std::string& path) {
    return parse_policy(read_policy_text(path), path);
}

}  // namespace aj::policy
