#include "policy/limits_table.hpp"

namespace aj::policy {

const std::vector<IntegerLimit>& integer_limits() {
    // Ceilings are far beyond any real machine yet small enough that unit conversions
    // (MiB -> bytes, s -> us) cannot overflow 64 bits downstream.
    static const std::vector<IntegerLimit> table = {
        {"max_memory_mb", &Limits::memory_mb, 1, 1u << 20, "a memory limit of 0 leaves nothing to run in"},
        {"max_cpu_sec", &Limits::cpu_sec, 1, std::uint64_t{7} * 24 * 3600, "0 seconds of CPU would kill the command at once"},
        {"max_pids", &Limits::pids, 2, 4194304, "the sandbox's init (PID 1) and the command take one pid each"},
        {"max_open_files", &Limits::open_files, 1, 1048576, "0 open files cannot even load a program"},
        {"max_file_size_mb", &Limits::file_size_mb, 0, 1u << 20, ""},
        {"max_tmpfs_mb", &Limits::tmpfs_mb, 1, 1u << 20, "tmpfs reads size 0 as unlimited"},
        {"max_disk_mb", &Limits::disk_mb, 1, 1u << 20, "0 MiB would end a run at its first directory block"},
        {"max_files", &Limits::files, 1, std::uint64_t{1} << 32, "0 files would end a run at its first file"},
        {"timeout_sec", &Limits::timeout_sec, 1, std::uint64_t{30} * 24 * 3600, "a timeout of 0 would stop the command at once"},
    };
    return table;
}

}  // namespace aj::policy
