# Probe programs (tests/probes/probes.cpp) are linked into each run_*_test binary, which
# runs them when called as `BINARY --aj-probe NAME ...` inside a sandbox.
file(GLOB AJ_RUN_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/integration/run_*_test.cpp)
foreach(t ${AJ_RUN_TESTS})
  get_filename_component(name ${t} NAME_WE)
  target_sources(${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/probes/probes.cpp)
endforeach()
