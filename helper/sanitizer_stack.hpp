// Telling AddressSanitizer about a switch to a stack of our own (start_command's
// vfork-style child shares PID 1's memory, ASan's per-thread state included, and runs on a
// stack start_command mapped). Unannounced, ASan takes the child's stack pointer for a
// corrupted one and writes "ASan is ignoring requested __asan_handle_no_return" into the
// sandbox's stderr. In builds without ASan these do nothing.
#pragma once

#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#define AJ_ASAN_STACKS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AJ_ASAN_STACKS 1
#endif
#endif

#ifdef AJ_ASAN_STACKS
#include <sanitizer/common_interface_defs.h>
#endif

namespace aj::helper {

// The stack a switch left: where to come back to.
struct StackLeft {
    const void* bottom = nullptr;
    std::size_t size = 0;
};

// Before the switch, on the old stack: the new one is [bottom, bottom + size).
inline void announce_stack_switch([[maybe_unused]] const void* bottom, [[maybe_unused]] std::size_t size) {
#ifdef AJ_ASAN_STACKS
    __sanitizer_start_switch_fiber(nullptr, bottom, size);
#endif
}

// First thing on the new stack (or on the old one, when the switch never happened).
inline void arrived_on_stack([[maybe_unused]] StackLeft& left) {
#ifdef AJ_ASAN_STACKS
    __sanitizer_finish_switch_fiber(nullptr, &left.bottom, &left.size);
#endif
}

// Back on the stack `left` describes (the child has exec'd or exited).
inline void returned_to_stack([[maybe_unused]] const StackLeft& left) {
#ifdef AJ_ASAN_STACKS
    __sanitizer_start_switch_fiber(nullptr, left.bottom, left.size);
    __sanitizer_finish_switch_fiber(nullptr, nullptr, nullptr);
#endif
}

}  // namespace aj::helper
