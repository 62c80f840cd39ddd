#include "runner/queue.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "policy/atomic_write.hpp"
#include "policy/dir_list.hpp"
#include "policy/error.hpp"
#include "policy/random_name.hpp"
#include "runner/manifest.hpp"
#include "runner/tree_copy.hpp"

namespace aj::runner {

namespace {

using nlohmann::json;
using sys::UniqueFd;

// Longer names cannot be answered: "NAME.result.json" would exceed NAME_MAX (255).
constexpr std::size_t kMaxAnswerableName = 200;

UniqueFd open_subdir(const std::string& path) {
    return sys::open_fd(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, "opening queue directory");
}

constexpr std::size_t kMaxListedPerScan = 65536;

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

double now_ts() {
    using namespace std::chrono;
    return duration_cast<duration<double>>(system_clock::now().time_since_epoch()).count();
}

std::string unique_request_name() {
    using namespace std::chrono;
    auto ms = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
    // Millisecond prefix first: sorting names approximates arrival order.
    return "req-" + std::to_string(ms) + "-" + std::to_string(::getpid()) + "-" + sys::random_hex(8);
}

[[noreturn]] void bad(const std::string& what) { throw Error("malformed request: " + what); }

}  // namespace

std::string dump_json(const json& j, int indent) {
    return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

std::string response_name(const std::string& name, bool is_error) {
    return name + (is_error ? ".error.json" : ".result.json");
}

RequestLayout request_layout(std::string_view file) {
    if (ends_with(file, ".json")) return RequestLayout::Native;
    if (ends_with(file, ".req")) return RequestLayout::Prototype;
    return RequestLayout::NotARequest;
}

Request parse_request(std::string_view text) {
    if (text.size() > kMaxRequestBytes)
        throw Error("request too large (more than " + std::to_string(kMaxRequestBytes) + " bytes)");
    json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) bad("not valid JSON");
    if (!doc.is_object()) bad(std::string("expected a JSON object, got ") + doc.type_name());
    for (const auto& [key, value] : doc.items())
        if (key != "plugin" && key != "cmd" && key != "timeout" && key != "memory_mb")
            bad("unknown field \"" + key.substr(0, 64) + "\" (allowed: plugin, cmd, timeout, memory_mb)");

    Request r;
    auto plugin = doc.find("plugin");
    if (plugin == doc.end()) bad("missing \"plugin\"");
    if (!plugin->is_string()) bad("\"plugin\" must be a string");
    r.plugin = plugin->get<std::string>();
    if (!is_safe_name(r.plugin)) bad("\"plugin\" is not a safe plugin id");

    auto cmd = doc.find("cmd");
    if (cmd != doc.end() && !cmd->is_null()) {
        r.cmd = *cmd;
        if (cmd->is_string()) {
            const auto& s = cmd->get_ref<const std::string&>();
            if (s.empty()) bad("\"cmd\" must not be empty");
            if (s.find('\0') != std::string::npos) bad("\"cmd\" contains a NUL byte");
            r.argv = std::vector<std::string>{"/bin/sh", "-c", s};
        } else if (cmd->is_array()) {
            if (cmd->empty()) bad("\"cmd\" argv array must not be empty");
            std::vector<std::string> argv;
            for (const auto& a : *cmd) {
                if (!a.is_string()) bad("\"cmd\" argv elements must be strings");
                const auto& s = a.get_ref<const std::string&>();
                if (s.find('\0') != std::string::npos) bad("\"cmd\" contains a NUL byte");
                argv.push_back(s);
            }
            if (argv[0].empty()) bad("\"cmd\" program must not be empty");
            r.argv = std::move(argv);
        } else {
            bad("\"cmd\" must be a string or an array of strings");
        }
    }

    auto timeout = doc.find("timeout");
    if (timeout != doc.end() && !timeout->is_null()) {
        if (!timeout->is_number()) bad("\"timeout\" must be a number of seconds");
        double t = timeout->get<double>();
        if (!(t > 0) || t > static_cast<double>(kMaxRequestTimeoutSec))
            bad("\"timeout\" must be > 0 and <= " + std::to_string(kMaxRequestTimeoutSec));
        r.timeout_sec = static_cast<std::uint64_t>(std::ceil(t));
        r.timeout_given = true;
    }

    auto memory = doc.find("memory_mb");
    if (memory != doc.end() && !memory->is_null()) {
        if (!memory->is_number_integer() || memory->get<std::int64_t>() < 1 ||
            memory->get<std::uint64_t>() > kMaxRequestMemoryMb)
            bad("\"memory_mb\" must be a whole number of MiB, 1.." + std::to_string(kMaxRequestMemoryMb));
        r.memory_mb = memory->get<std::uint64_t>();
    }
    return r;
}

json to_json(const Request& request) {
    json j{{"plugin", request.plugin}};
    if (request.timeout_given) j["timeout"] = request.timeout_sec;
    if (!request.cmd.is_null()) j["cmd"] = request.cmd;
    if (request.memory_mb) j["memory_mb"] = *request.memory_mb;
    return j;
}

Queue::Queue(const std::string& dir)
    : dir_(dir),
      requests_(open_subdir(dir + "/requests")),
      claimed_(open_subdir(dir + "/claimed")),
      responses_(open_subdir(dir + "/responses")) {}

std::string Queue::submit(const Request& request) const {
    std::string text = dump_json(to_json(request));
    (void)parse_request(text);  // never enqueue what the daemon would refuse as malformed
    std::string name = unique_request_name();
    // The temp file starts with "." and does not end in ".json": never taken for a request.
    sys::write_file_atomic(requests_.get(), name + ".json", text, 0600);
    return name;
}

std::optional<Queue::Response> Queue::find_response(const std::string& name) const {
    for (bool is_error : {false, true}) {
        UniqueFd fd(sys::retry_eintr([&] {
            return ::openat(responses_.get(), response_name(name, is_error).c_str(),
                            O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        }));
        if (!fd) {
            if (errno == ENOENT) continue;
            throw_errno("opening response for " + name);
        }
        std::string text = sys::read_all(fd.get(), 64u << 20, "reading response for " + name);
        json body = json::parse(text, nullptr, false);
        if (body.is_discarded()) throw Error("response for " + name + " is not valid JSON");
        return Response{is_error, std::move(body)};
    }
    return std::nullopt;
}

std::vector<std::string> Queue::scan(std::size_t max) const {
    std::vector<std::string> names;
    // Memory per scan stays bounded however many files are dumped in requests/; the
    // rest wait for later scans (order is then best effort).
    const auto now = std::chrono::system_clock::now();
    for (std::string& entry : sys::list_dir(requests_.get(), dir_ + "/requests", kMaxListedPerScan)) {
        if (entry.front() == '.') continue;
        switch (request_layout(entry)) {
            case RequestLayout::Native: names.push_back(entry.substr(0, entry.size() - 5)); break;
            case RequestLayout::Prototype:
                if (!being_written(entry, now)) names.push_back(std::move(entry));
                break;
            case RequestLayout::NotARequest: names.push_back(std::move(entry)); break;
        }
    }
    // "X.json" and a file named "X" share a STEM: scan it once.
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    if (names.size() > max) {
        std::partial_sort(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(max), names.end());
        names.resize(max);
    } else {
        std::sort(names.begin(), names.end());
    }
    return names;
}

bool Queue::being_written(const std::string& file, std::chrono::system_clock::time_point now) const {
    struct stat st{};
    if (::fstatat(requests_.get(), file.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return false;  // claim() decides
    if (!S_ISREG(st.st_mode) || st.st_size != 0) return false;
    const auto mtime = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
    return now - mtime < std::chrono::seconds(kPartialRequestGraceSec);
}

bool Queue::has_response(const std::string& name) const {
    for (bool is_error : {false, true}) {
        struct stat st{};
        if (::fstatat(responses_.get(), response_name(name, is_error).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
            return true;
        if (errno != ENOENT) throw_errno("checking response for " + name);
    }
    return false;
}

Queue::Claim Queue::claim(const std::string& name, RequestLayout* layout, Sync sync) const {
    // Which file holds STEM: NAME.json first, else the entry named STEM itself (a
    // prototype .req file, or a file that is not a request).
    const std::string claimed_file = name + ".json";
    std::string file = claimed_file;
    RequestLayout kind = RequestLayout::Native;
    struct stat probe{};
    if (::fstatat(requests_.get(), file.c_str(), &probe, AT_SYMLINK_NOFOLLOW) < 0 &&
        !ends_with(name, ".json") && ::fstatat(requests_.get(), name.c_str(), &probe, AT_SYMLINK_NOFOLLOW) == 0) {
        file = name;
        kind = request_layout(name);
    }
    if (layout) *layout = kind;
    if (name.size() > kMaxAnswerableName) {
        // Cannot be answered under its own name; removing it is the only bounded choice.
        remove_tree(requests_.get(), file);
        return Claim::Gone;
    }
    if (has_response(name)) {
        struct stat st{};
        if (::fstatat(requests_.get(), file.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return Claim::Gone;
        remove_tree(requests_.get(), file);
        return Claim::AlreadyAnswered;
    }
    // NOREPLACE: a second request reusing the name of one in progress must not clobber it.
    if (::renameat2(requests_.get(), file.c_str(), claimed_.get(), claimed_file.c_str(), RENAME_NOREPLACE) < 0) {
        if (errno == ENOENT || errno == EEXIST) return Claim::Gone;
        throw_errno("claiming request " + name);
    }
    // The claim must be durable before the request's command runs, or a power loss could
    // bring the request back after its sandbox already ran.
    if (sync == Sync::Now) sync_claims();
    return Claim::Claimed;
}

void Queue::sync_claims() const {
    sys::check(sys::retry_eintr([&] { return ::fsync(claimed_.get()); }), "fsync claimed/");
}

std::string Queue::read_claimed(const std::string& name, std::size_t max_bytes) const {
    if (!is_safe_name(name, kMaxRequestNameLen))
        throw Error("request name not allowed (want [A-Za-z0-9][A-Za-z0-9._-]{0,127}.json)");
    UniqueFd fd(sys::retry_eintr([&] {
        return ::openat(claimed_.get(), (name + ".json").c_str(),
                        O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    }));
    if (!fd) {
        if (errno == ELOOP) throw Error("request is a symlink, not a regular file");
        if (errno == ENXIO) throw Error("request is not a regular file");
        throw_errno("reading request");
    }
    struct stat st{};
    sys::check(::fstat(fd.get(), &st), "stat request");
    if (!S_ISREG(st.st_mode)) throw Error("request is not a regular file");
    if (static_cast<std::uint64_t>(st.st_size) > max_bytes)
        throw Error("request too large (" + std::to_string(st.st_size) + " bytes, limit " +
                    std::to_string(max_bytes) + ")");
    std::string text = sys::read_all(fd.get(), max_bytes + 1, "reading request");
    if (text.size() > max_bytes)
        throw Error("request too large (limit " + std::to_string(max_bytes) + " bytes)");
    return text;
}

void Queue::answer(const std::string& name, const char* suffix, const json& body, Unclaim unclaim) const {
    // Order is the exactly-once argument: the response is durable before the claim goes.
    if (unclaim == Unclaim::Later) {
        sys::write_file_atomic(responses_.get(), name + suffix, dump_json(body), 0600, sys::DirSync::Later);
        return;
    }
    sys::write_file_atomic(responses_.get(), name + suffix, dump_json(body), 0600);
    remove_tree(claimed_.get(), name + ".json");
}

void Queue::unclaim_answered(const std::vector<std::string>& names) const {
    if (names.empty()) return;
    sys::check(sys::retry_eintr([&] { return ::fsync(responses_.get()); }), "fsync responses/");
    for (const std::string& name : names) remove_tree(claimed_.get(), name + ".json");
}

void Queue::answer_result(const std::string& name, json body, RequestLayout layout, Unclaim unclaim) const {
    body["ts"] = now_ts();
    if (layout == RequestLayout::Prototype) {
        // The prototype's clients read res["result"]["rc"]; aurora-jail's extra fields
        // (timeout, truncation, report...) sit beside rc/stdout/stderr/ts.
        answer(name, ".result.json", json{{"req", name}, {"result", std::move(body)}}, unclaim);
        return;
    }
    body["request"] = name;
    answer(name, ".result.json", body, unclaim);
}

void Queue::answer_error(const std::string& name, const std::string& reason, Unclaim unclaim) const {
    json body{{"error", reason}, {"request", name}, {"ts", now_ts()}};
    if (ends_with(name, ".req")) body["req"] = name;  // the prototype's clients' key
    answer(name, ".error.json", body, unclaim);
}

Queue::Recovery Queue::recover() const {
    Recovery rec;
    for (const std::string& entry : sys::list_dir(responses_.get(), dir_ + "/responses"))
        if (entry.front() == '.' && entry.find(".tmp-") != std::string::npos)
            remove_tree(responses_.get(), entry);
    for (const std::string& entry : sys::list_dir(claimed_.get(), dir_ + "/claimed")) {
        if (entry.front() == '.' || !ends_with(entry, ".json")) {
            remove_tree(claimed_.get(), entry);  // not ours: only claim() writes here
            continue;
        }
        std::string name = entry.substr(0, entry.size() - 5);
        if (has_response(name)) {
            remove_tree(claimed_.get(), entry);
            ++rec.already_answered;
        } else {
            answer_error(name, kInterruptedReason);
            ++rec.interrupted;
        }
    }
    return rec;
}

}  // namespace aj::runner
