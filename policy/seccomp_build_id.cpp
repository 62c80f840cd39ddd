// Which libseccomp build compiles our filters, named by its GNU build id: libseccomp's
// output is a pure function of its input and its own code, so a program compiled by one
// build can stand in for a fresh compile only while that exact build is loaded. The
// Debian version is not enough: a security update may keep the upstream version.
#include <elf.h>
#include <link.h>
#include <seccomp.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "policy/seccomp_compile.hpp"

namespace aj::policy {
namespace {

struct Search {
    std::uintptr_t address;  // a function inside libseccomp
    std::string build_id;    // hex, once found
    bool found_object = false;
};

bool segment_holds(const dl_phdr_info& info, const ElfW(Phdr)& ph, std::uintptr_t address) {
    const std::uintptr_t start = info.dlpi_addr + ph.p_vaddr;
    return ph.p_type == PT_LOAD && address >= start && address - start < ph.p_memsz;
}

// The NT_GNU_BUILD_ID note among an object's PT_NOTE segments, as hex.
std::string build_id_of(const dl_phdr_info& info) {
    static constexpr char kHex[] = "0123456789abcdef";
    for (int i = 0; i < info.dlpi_phnum; ++i) {
        const ElfW(Phdr)& ph = info.dlpi_phdr[i];
        if (ph.p_type != PT_NOTE) continue;
        // The loader hands out the load address as an integer; the notes are read in place.
        const auto* at = reinterpret_cast<const unsigned char*>(info.dlpi_addr + ph.p_vaddr);  // NOLINT(performance-no-int-to-ptr)
        const unsigned char* end = at + ph.p_memsz;
        while (static_cast<std::size_t>(end - at) >= sizeof(ElfW(Nhdr))) {
            ElfW(Nhdr) note;
            std::memcpy(&note, at, sizeof note);
            const std::size_t name_size = (note.n_namesz + 3u) & ~std::size_t{3};
            const std::size_t desc_size = (note.n_descsz + 3u) & ~std::size_t{3};
            const unsigned char* name = at + sizeof note;
            if (static_cast<std::size_t>(end - name) < name_size + desc_size) break;
            const unsigned char* desc = name + name_size;
            if (note.n_type == NT_GNU_BUILD_ID && note.n_namesz == 4 && std::memcmp(name, "GNU", 4) == 0 &&
                note.n_descsz > 0) {
                std::string hex;
                for (std::size_t k = 0; k < note.n_descsz; ++k) {
                    hex += kHex[desc[k] >> 4];
                    hex += kHex[desc[k] & 0xf];
                }
                return hex;
            }
            at = desc + desc_size;
        }
    }
    return {};
}

int visit(dl_phdr_info* info, std::size_t, void* data) {
    auto* search = static_cast<Search*>(data);
    for (int i = 0; i < info->dlpi_phnum; ++i) {
        if (!segment_holds(*info, info->dlpi_phdr[i], search->address)) continue;
        search->found_object = true;
        search->build_id = build_id_of(*info);
        return 1;  // stop
    }
    return 0;
}

}  // namespace

std::string seccomp_compiler_build_id() {
    Search search{reinterpret_cast<std::uintptr_t>(&seccomp_export_bpf), {}};
    dl_iterate_phdr(&visit, &search);
    return search.found_object ? search.build_id : std::string();
}

}  // namespace aj::policy
