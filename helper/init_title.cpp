#include "helper/init_title.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "policy/sys.hpp"
#include "policy/error.hpp"

namespace aj::helper {
namespace {

struct MemoryRange {
    std::uint64_t start = 0;
    std::uint64_t end = 0;
    std::uint64_t size() const { return end > start ? end - start : 0; }
};

// Fields 48-51 of /proc/self/stat: arg_start, arg_end, env_start, env_end.
std::pair<MemoryRange, MemoryRange> argument_and_environment_areas() {
    const std::string stat = sys::read_file("/proc/self/stat", 4096);
    // The name (field 2) may hold spaces and parentheses: count from its closing one.
    const std::size_t name_end = stat.rfind(')');
    if (name_end == std::string::npos) throw Error("reading /proc/self/stat: no process name field");
    std::istringstream rest(stat.substr(name_end + 1));
    std::vector<std::uint64_t> fields;  // from field 3 (the state letter) on, as 0
    std::string token;
    while (rest >> token) fields.push_back(fields.empty() ? 0 : std::stoull(token));
    constexpr std::size_t kArgStart = 48 - 3;
    if (fields.size() < kArgStart + 4)
        throw Error("reading /proc/self/stat: " + std::to_string(fields.size() + 2) + " fields, fewer than 51");
    return {MemoryRange{fields[kArgStart], fields[kArgStart + 1]},
            MemoryRange{fields[kArgStart + 2], fields[kArgStart + 3]}};
}

// Writing through /proc/self/mem reaches the areas by the addresses the kernel reports,
// with no pointer made up from an integer.
void overwrite(int mem_fd, const MemoryRange& range, const std::string& bytes, const char* what) {
    const std::string data = bytes.substr(0, range.size());
    const ssize_t n = sys::retry_eintr(
        [&] { return ::pwrite(mem_fd, data.data(), data.size(), static_cast<off_t>(range.start)); });
    if (n < 0) throw_errno(std::string("overwriting PID 1's ") + what);
    if (static_cast<std::size_t>(n) != data.size()) throw Error(std::string("overwriting PID 1's ") + what + ": short write");
}

}  // namespace

void hide_host_command_line() {
    const auto [args, env] = argument_and_environment_areas();
    // A root caller's runner cloned us with its effective ids switched to the run's leased
    // ids, which left us non-dumpable: /proc/self/mem then belongs to host root and its mode
    // (0600) refuses our own open. Dumpable for the open alone (no other process has the
    // leased ids, so none can attach meanwhile), then back to what it was.
    const int was_dumpable = ::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
    if (was_dumpable < 0) throw_errno("PR_GET_DUMPABLE");
    sys::check(::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), "PR_SET_DUMPABLE 1");
    int open_errno = 0;
    sys::UniqueFd mem(sys::retry_eintr([&] { return ::open("/proc/self/mem", O_RDWR | O_CLOEXEC); }));
    if (!mem) open_errno = errno;
    sys::check(::prctl(PR_SET_DUMPABLE, was_dumpable, 0, 0, 0), "restoring PR_SET_DUMPABLE");
    if (!mem) throw_errno("opening /proc/self/mem", open_errno);
    if (args.size() > 0) {
        // Zeroes with the title at the front. A non-zero last byte makes the kernel read
        // the area as a set-title one: /proc/1/cmdline then ends at the title's NUL
        // instead of showing the host command line's length in trailing zeroes.
        std::string area(args.size(), '\0');
        std::copy_n(kInitTitle, std::min(sizeof kInitTitle - 1, args.size() > 2 ? args.size() - 2 : 0), area.begin());
        if (area.size() >= 2) area.back() = ' ';
        overwrite(mem.get(), args, area, "argument area");
    }
    if (env.size() > 0) overwrite(mem.get(), env, std::string(env.size(), '\0'), "environment area");
    sys::check(::prctl(PR_SET_NAME, kInitTitle, 0, 0, 0), "PR_SET_NAME");
}

}  // namespace aj::helper
