// Intentionally empty: this translation unit only gives the test binaries' shared
// precompiled header (tests/CMakeLists.txt, AJ_PCH) a -fPIE target to be built on.
