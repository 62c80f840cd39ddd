// libsystemd's sd-bus, loaded only when a systemd scope is asked for (helper/systemd_scope.hpp).
// Linked in, libsystemd and the five libraries it needs (libgcrypt, liblzma, libzstd,
// liblz4, libgpg-error) were mapped and relocated at every aurora-jail start, about 0.8M
// instructions of `aurora-jail --version`, for a scope that only an ordinary user on a
// systemd cgroup v2 host without a cgroup of their own needs. The headers still give the
// types and prototypes: each pointer below is decltype(&sd_bus_...), so the compiler
// checks every call against libsystemd's declared signature.
#pragma once

#include <systemd/sd-bus.h>

#include <memory>
#include <string>

namespace aj::helper {

// The soname this build was written against (libsystemd0's; Debian's package Recommends it).
inline constexpr const char* kLibSystemdSoname = "libsystemd.so.0";

// The sd-bus functions systemd_scope.cpp calls, resolved from one dlopen() of the library.
// Owns the handle: dlclose() when the table is destroyed, so no pointer of it may outlive it.
class LibSystemd {
public:
    // dlopen(soname, RTLD_NOW | RTLD_LOCAL) and every symbol below. Null with `why_not`
    // ("libsystemd.so.0 not found (...)", "libsystemd.so.0 has no sd_bus_...") when the
    // library or one of its functions is missing: a host without libsystemd0 is not an error.
    static std::unique_ptr<LibSystemd> load(const char* soname, std::string& why_not);

    decltype(&::sd_bus_open_user) bus_open_user = nullptr;
    decltype(&::sd_bus_open_system) bus_open_system = nullptr;
    decltype(&::sd_bus_flush_close_unref) bus_flush_close_unref = nullptr;
    decltype(&::sd_bus_match_signal) bus_match_signal = nullptr;
    decltype(&::sd_bus_call) bus_call = nullptr;
    decltype(&::sd_bus_process) bus_process = nullptr;
    decltype(&::sd_bus_wait) bus_wait = nullptr;
    decltype(&::sd_bus_slot_unref) bus_slot_unref = nullptr;
    decltype(&::sd_bus_message_new_method_call) message_new_method_call = nullptr;
    decltype(&::sd_bus_message_set_auto_start) message_set_auto_start = nullptr;
    decltype(&::sd_bus_message_append) message_append = nullptr;
    decltype(&::sd_bus_message_open_container) message_open_container = nullptr;
    decltype(&::sd_bus_message_close_container) message_close_container = nullptr;
    decltype(&::sd_bus_message_read) message_read = nullptr;
    decltype(&::sd_bus_message_unref) message_unref = nullptr;
    decltype(&::sd_bus_error_free) error_free = nullptr;
    decltype(&::sd_bus_error_is_set) error_is_set = nullptr;

private:
    struct Token {
        explicit Token() = default;
    };

public:
    // Only load() makes one (Token is private): a table is never without its library.
    explicit LibSystemd(Token /*only load()*/) {}
    LibSystemd(const LibSystemd&) = delete;
    LibSystemd& operator=(const LibSystemd&) = delete;
    ~LibSystemd();

private:
    void* handle_ = nullptr;
};

// The process's one copy of libsystemd.so.0, loaded at the first call and kept for the
// rest of the process's life (a host daemon asks again per run; libsystemd keeps
// per-process state, such as its memory pools, that its own exit-time destructors
// release, and no sd-bus object of ours may outlive the code that frees it). Null with
// `why_not` when it cannot be loaded; the answer, either way, is remembered.
const LibSystemd* process_libsystemd(std::string& why_not);

}  // namespace aj::helper
