// libFuzzer target: manifest.json parsing. Any input either parses into a manifest that
// keeps every invariant staging relies on, or throws aj::Error; nothing else.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "policy/error.hpp"
#include "runner/manifest.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    aj::runner::Manifest m;
    try {
        m = aj::runner::parse_manifest(text, "fuzz");
    } catch (const aj::Error&) {
        return 0;
    }
    // An id is always one safe directory entry; an entry path never leaves the package.
    if (!aj::runner::is_safe_name(m.id)) std::abort();
    if (m.id.find('/') != std::string::npos || m.id.find("..") != std::string::npos) std::abort();
    if (m.entry_path && !aj::runner::is_safe_relative_path(*m.entry_path)) std::abort();
    if (!m.entry_path && (m.entry_argv.empty() || m.entry_argv[0].empty())) std::abort();
    if (m.policy && !aj::runner::is_safe_name(*m.policy)) std::abort();
    // What we print back parses to the same manifest.
    if (aj::runner::parse_manifest(aj::runner::to_json(m).dump(), "again") != m) std::abort();
    return 0;
}
