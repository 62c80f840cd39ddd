// Crash-safe file replacement: write a temp file in the same directory, fsync it, rename
// it over the target, fsync the directory. Readers see the old or the new content, never
// a torn one, and after return the new content survives a crash.
#pragma once

#include <string>
#include <string_view>

namespace aj::sys {

// Whether write_file_atomic syncs the directory after the rename. Later: the caller
// fsyncs `dir_fd` itself before relying on the new name surviving a crash (one sync for
// many files).
enum class DirSync { Now, Later };

// Writes `data` to `name` inside directory `dir_fd` atomically (mode `mode`). The temp
// file is ".NAME.tmp-XXXXXX" in the same directory; it is removed on failure.
void write_file_atomic(int dir_fd, const std::string& name, std::string_view data,
                       unsigned mode = 0600, DirSync dir_sync = DirSync::Now);

// Same, by path.
void write_file_atomic(const std::string& path, std::string_view data, unsigned mode = 0600);

}  // namespace aj::sys
