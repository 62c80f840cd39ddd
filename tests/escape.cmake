# The escape suite (issue 7): a static probe program, embedded into the escape_test
# GoogleTest binary, that tries ~90 escapes from inside `aurora-jail run`.
#
# The probe is compiled by a plain custom command, not add_executable: it must be a
# static binary built without this project's sanitizer/PIE/link flags (ASan cannot be
# static; the i386 attacks need its data below 4 GiB, i.e. non-PIE).
set(AJ_PROBE_DIR ${CMAKE_CURRENT_SOURCE_DIR}/escape)
file(GLOB AJ_PROBE_SOURCES CONFIGURE_DEPENDS ${AJ_PROBE_DIR}/*.c)
set(AJ_PROBE_BIN ${CMAKE_CURRENT_BINARY_DIR}/escape/aj-escape-probe)
set(AJ_PROBE_FLAGS -static -O2 -std=gnu11 -Wall -Wextra -Wshadow -Wformat=2 -D_GNU_SOURCE)
if(AJ_WERROR)
  list(APPEND AJ_PROBE_FLAGS -Werror)
endif()
add_custom_command(
  OUTPUT ${AJ_PROBE_BIN}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_CURRENT_BINARY_DIR}/escape
  COMMAND ${CMAKE_C_COMPILER} ${AJ_PROBE_FLAGS} -o ${AJ_PROBE_BIN} ${AJ_PROBE_SOURCES}
  DEPENDS ${AJ_PROBE_SOURCES} ${AJ_PROBE_DIR}/probe.h ${AJ_PROBE_DIR}/attacks.def
  COMMENT "Building the static escape probe"
  VERBATIM)
add_custom_target(aj_escape_probe ALL DEPENDS ${AJ_PROBE_BIN})

if(TARGET escape_test)
  # The probe's bytes are linked into the test (.incbin), so the test needs no file
  # from the build tree: it also runs as uid 65534 from a copy in /tmp.
  target_sources(escape_test PRIVATE ${AJ_PROBE_DIR}/probe_blob.cpp ${AJ_PROBE_DIR}/harness.cpp)
  set_source_files_properties(${AJ_PROBE_DIR}/probe_blob.cpp PROPERTIES
    COMPILE_DEFINITIONS "AJ_PROBE_PATH=\"${AJ_PROBE_BIN}\""
    SKIP_PRECOMPILE_HEADERS ON
    OBJECT_DEPENDS ${AJ_PROBE_BIN})
  add_dependencies(escape_test aj_escape_probe)
endif()
