#include "helper/libsystemd_loader.hpp"

#include <dlfcn.h>

namespace aj::helper {
namespace {

// dlsym(name) into `fn`, typed by the header's prototype; false when the library lacks it.
template <typename Fn>
bool resolve(void* handle, const char* name, Fn& fn) {
    // dlsym returns the function's address as void*; POSIX guarantees the round trip.
    fn = reinterpret_cast<Fn>(::dlsym(handle, name));  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
    return fn != nullptr;
}

std::string last_dlerror() {
    const char* text = ::dlerror();
    return text ? text : "no reason given";
}

}  // namespace

std::unique_ptr<LibSystemd> LibSystemd::load(const char* soname, std::string& why_not) {
    // RTLD_LOCAL: its symbols serve only this table, never a later lookup by name.
    // RTLD_NOW: a library missing one of its own dependencies fails here, not mid-call.
    void* handle = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        why_not = std::string(soname) + " not found (" + last_dlerror() + ")";
        return nullptr;
    }
    auto lib = std::make_unique<LibSystemd>(Token{});
    lib->handle_ = handle;
    const char* missing = nullptr;
    auto need = [&](const char* name, auto& fn) {
        if (!missing && !resolve(handle, name, fn)) missing = name;
    };
    need("sd_bus_open_user", lib->bus_open_user);
    need("sd_bus_open_system", lib->bus_open_system);
    need("sd_bus_flush_close_unref", lib->bus_flush_close_unref);
    need("sd_bus_match_signal", lib->bus_match_signal);
    need("sd_bus_call", lib->bus_call);
    need("sd_bus_process", lib->bus_process);
    need("sd_bus_wait", lib->bus_wait);
    need("sd_bus_slot_unref", lib->bus_slot_unref);
    need("sd_bus_message_new_method_call", lib->message_new_method_call);
    need("sd_bus_message_set_auto_start", lib->message_set_auto_start);
    need("sd_bus_message_append", lib->message_append);
    need("sd_bus_message_open_container", lib->message_open_container);
    need("sd_bus_message_close_container", lib->message_close_container);
    need("sd_bus_message_read", lib->message_read);
    need("sd_bus_message_unref", lib->message_unref);
    need("sd_bus_error_free", lib->error_free);
    need("sd_bus_error_is_set", lib->error_is_set);
    if (missing) {
        why_not = std::string(soname) + " has no " + missing + " (" + last_dlerror() + ")";
        return nullptr;  // ~LibSystemd closes the handle
    }
    return lib;
}

LibSystemd::~LibSystemd() {
    if (handle_) ::dlclose(handle_);
}

const LibSystemd* process_libsystemd(std::string& why_not) {
    struct Loaded {
        std::string why_not;
        std::unique_ptr<LibSystemd> lib;
    };
    // Initialised once, thread-safely, and kept until exit (see the header for why).
    static const Loaded loaded = [] {
        Loaded l;
        l.lib = LibSystemd::load(kLibSystemdSoname, l.why_not);
        return l;
    }();
    why_not = loaded.why_not;
    return loaded.lib.get();
}

}  // namespace aj::helper
