// The static escape probe, linked into the test binary (see tests/escape.cmake).
#pragma once

#include <string_view>

namespace aj::escape {

// The probe's ELF image.
std::string_view probe_image();

}  // namespace aj::escape
