// Embeds the probe binary built by tests/escape.cmake: the assembler copies the file's
// bytes into .rodata between two hidden symbols.
#include "tests/escape/probe_blob.hpp"

#ifndef AJ_PROBE_PATH
#error "AJ_PROBE_PATH must name the built probe (tests/escape.cmake sets it)"
#endif

asm(".pushsection .rodata.aj_probe,\"a\",@progbits\n"
    ".balign 16\n"
    ".hidden aj_probe_begin\n"
    ".globl aj_probe_begin\n"
    "aj_probe_begin:\n"
    ".incbin \"" AJ_PROBE_PATH "\"\n"
    ".hidden aj_probe_end\n"
    ".globl aj_probe_end\n"
    "aj_probe_end:\n"
    ".popsection\n");

extern "C" const unsigned char aj_probe_begin[];
extern "C" const unsigned char aj_probe_end[];

namespace aj::escape {

std::string_view probe_image() {
    return {reinterpret_cast<const char*>(aj_probe_begin),
            static_cast<std::size_t>(aj_probe_end - aj_probe_begin)};
}

}  // namespace aj::escape
