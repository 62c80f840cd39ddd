#include "oci/list.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <nlohmann/json.hpp>

#include "oci/container_state.hpp"
#include "policy/dir_list.hpp"
#include "policy/error.hpp"
#include "policy/sys.hpp"

namespace aj::oci {

using nlohmann::json;
using nlohmann::ordered_json;

namespace {

// The recorded owner (a uid) as runc names it: the account's name, else "#UID".
std::string owner_name(const std::string& uid_text) {
    char* end = nullptr;
    const unsigned long uid = std::strtoul(uid_text.c_str(), &end, 10);
    if (uid_text.empty() || *end != '\0' || uid > 4294967294UL) return uid_text;
    passwd entry{};
    passwd* found = nullptr;
    std::vector<char> buf(16384);
    if (::getpwuid_r(static_cast<uid_t>(uid), &entry, buf.data(), buf.size(), &found) == 0 && found)
        return found->pw_name;
    return "#" + uid_text;
}

// The state documents of the containers under --root, by id.
std::vector<json> container_states(const Globals& g) {
    struct stat st {};
    // runc lists a root that does not exist as empty, and does not make it.
    if (::lstat(g.root.c_str(), &st) != 0 && errno == ENOENT) return {};
    const sys::UniqueFd root = open_state_root(g.root);
    const sys::UniqueFd listing(::openat(root.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!listing) throw_errno("opening state root " + g.root);
    std::vector<std::string> ids = sys::list_dir(listing.get(), g.root);
    std::sort(ids.begin(), ids.end());
    std::vector<json> states;
    for (const std::string& id : ids) {
        if (!valid_container_id(id)) continue;  // nothing this program made
        try {
            states.push_back(Container(root.get(), id).state_json());
        } catch (const Error& e) {
            // Being created (no state yet) or deleted meanwhile: not a container to list.
            if (std::string(e.what()) != "container does not exist") g.log->warning("container " + id + ": " + e.what());
        }
    }
    return states;
}

// Text's width in characters (UTF-8), as Go's tabwriter counts it.
std::size_t width(const std::string& text) {
    return static_cast<std::size_t>(
        std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// runc's table: tabwriter(minwidth 12, padding 3, spaces); the last cell is not a column.
void print_table(const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> widths(rows.front().size() - 1, 12);
    for (const auto& row : rows)
        for (std::size_t c = 0; c + 1 < row.size(); ++c) widths[c] = std::max(widths[c], width(row[c]) + 3);
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t c = 0; c + 1 < row.size(); ++c) line += row[c] + std::string(widths[c] - width(row[c]), ' ');
        line += row.back();
        std::printf("%s\n", line.c_str());
    }
}

}  // namespace

int cmd_list(const Globals& g, const std::string& format, bool quiet) {
    if (!quiet && format != "table" && format != "json") throw Error("invalid format option");
    const std::vector<json> states = container_states(g);
    if (quiet) {
        for (const json& s : states) std::printf("%s\n", s.at("id").get<std::string>().c_str());
        return 0;
    }
    if (format == "json") {
        ordered_json list = states.empty() ? ordered_json() : ordered_json::array();
        for (const json& s : states) {
            ordered_json item;
            for (const char* key : {"ociVersion", "id", "pid", "status", "bundle", "rootfs", "created"})
                item[key] = s.at(key);
            if (s.contains("annotations")) item["annotations"] = s.at("annotations");
            item["owner"] = owner_name(s.at("owner").get<std::string>());
            list.push_back(std::move(item));
        }
        std::printf("%s\n", list.dump().c_str());
        return 0;
    }
    std::vector<std::vector<std::string>> rows{{"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}};
    for (const json& s : states)
        rows.push_back({s.at("id").get<std::string>(), std::to_string(s.at("pid").get<long long>()),
                        s.at("status").get<std::string>(), s.at("bundle").get<std::string>(),
                        s.at("created").get<std::string>(), owner_name(s.at("owner").get<std::string>())});
    print_table(rows);
    return 0;
}

}  // namespace aj::oci
