// AJ_UNDER_ASAN: defined when the test is built with AddressSanitizer (g++ or clang).
// Under it, the sanitizer's runtime makes system calls of its own inside a child that a
// test filters with an allow-list: they are refused (or delivered to a supervisor) like
// the test's own calls, so tests that count or read exact refusals in-process skip there.
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define AJ_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AJ_UNDER_ASAN 1
#endif
#endif
