# libFuzzer targets (-DAJ_FUZZ=ON, clang only). The policy library is compiled a second
# time with -fsanitize=fuzzer-no-link so the fuzzer sees coverage inside the parser,
# without forcing fuzzer instrumentation on every other target.
if(AJ_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "AJ_FUZZ=ON needs clang (CXX=clang++), not ${CMAKE_CXX_COMPILER_ID}")
  endif()
  file(GLOB AJ_POLICY_FUZZ_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/policy/*.cpp)
  add_library(aj_policy_fuzzcov STATIC ${AJ_POLICY_FUZZ_SOURCES})
  # -O1 even in Debug trees: libFuzzer needs executions per second to find anything.
  target_compile_options(aj_policy_fuzzcov PRIVATE -fsanitize=fuzzer-no-link -O1)
  target_include_directories(aj_policy_fuzzcov PUBLIC ${PROJECT_SOURCE_DIR})
  target_compile_definitions(aj_policy_fuzzcov PUBLIC AJ_VERSION="${PROJECT_VERSION}")
  target_link_libraries(aj_policy_fuzzcov PUBLIC nlohmann_json::nlohmann_json PkgConfig::SECCOMP PkgConfig::LIBMD)

  add_executable(policy_fuzz ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/policy_fuzz.cpp)
  target_compile_options(policy_fuzz PRIVATE -fsanitize=fuzzer -O1)
  target_link_options(policy_fuzz PRIVATE -fsanitize=fuzzer)
  target_link_libraries(policy_fuzz PRIVATE aj_policy_fuzzcov)

  set(AJ_FUZZ_RUN ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/run_fuzz.sh $<TARGET_FILE:policy_fuzz>
      ${CMAKE_CURRENT_BINARY_DIR}/fuzz-corpus/policy ${CMAKE_CURRENT_SOURCE_DIR}/data
      ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/policy.dict)
  add_test(NAME fuzz.policy_short COMMAND ${AJ_FUZZ_RUN} 30)
  set_tests_properties(fuzz.policy_short PROPERTIES TIMEOUT 180)
  # Longer runs on demand: cmake --build DIR --target fuzz-long (AJ_FUZZ_SECONDS=N).
  set(AJ_FUZZ_SECONDS 1800 CACHE STRING "Duration of the fuzz-long target, in seconds")
  add_custom_target(fuzz-long COMMAND ${AJ_FUZZ_RUN} ${AJ_FUZZ_SECONDS} DEPENDS policy_fuzz USES_TERMINAL)

  # The plugin manifest and host request parsers (runner/), with the same coverage build.
  add_library(aj_runner_fuzzcov STATIC
    ${PROJECT_SOURCE_DIR}/runner/manifest.cpp ${PROJECT_SOURCE_DIR}/runner/queue.cpp
    ${PROJECT_SOURCE_DIR}/runner/tree_copy.cpp)
  target_compile_options(aj_runner_fuzzcov PRIVATE -fsanitize=fuzzer-no-link -O1)
  target_link_libraries(aj_runner_fuzzcov PUBLIC aj_policy_fuzzcov)
  foreach(target manifest request)
    add_executable(${target}_fuzz ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/${target}_fuzz.cpp)
    target_compile_options(${target}_fuzz PRIVATE -fsanitize=fuzzer -O1)
    target_link_options(${target}_fuzz PRIVATE -fsanitize=fuzzer)
    target_link_libraries(${target}_fuzz PRIVATE aj_runner_fuzzcov)
    add_test(NAME fuzz.${target}_short
      COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/run_fuzz.sh $<TARGET_FILE:${target}_fuzz>
              ${CMAKE_CURRENT_BINARY_DIR}/fuzz-corpus/${target} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/seeds/${target}
              ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/${target}.dict 30)
    set_tests_properties(fuzz.${target}_short PROPERTIES TIMEOUT 180)
  endforeach()
endif()
