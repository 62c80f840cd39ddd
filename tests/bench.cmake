# bench.syscall_cost: a smoke test of the per-syscall benchmark (bench/syscall_cost.c),
# bare and under the built aurora-jail, with a small N. The benchmark itself (timings,
# peers) is bench/compare.sh, deliberately not a test: it is slow and its numbers are noise
# on a shared machine.
#
# Built like the escape probe: a plain static C program, without this project's sanitizer
# or PIE flags (it must run inside a sandbox that sees nothing but its own file).
set(AJ_SYSCALL_COST_BIN ${CMAKE_CURRENT_BINARY_DIR}/bench/syscall_cost)
set(AJ_SYSCALL_COST_FLAGS -static -O2 -std=gnu11 -Wall -Wextra -Wshadow -Wformat=2)
if(AJ_WERROR)
  list(APPEND AJ_SYSCALL_COST_FLAGS -Werror)
endif()
add_custom_command(
  OUTPUT ${AJ_SYSCALL_COST_BIN}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_CURRENT_BINARY_DIR}/bench
  COMMAND ${CMAKE_C_COMPILER} ${AJ_SYSCALL_COST_FLAGS} -o ${AJ_SYSCALL_COST_BIN} ${PROJECT_SOURCE_DIR}/bench/syscall_cost.c
  DEPENDS ${PROJECT_SOURCE_DIR}/bench/syscall_cost.c
  COMMENT "Building the static syscall-cost benchmark"
  VERBATIM)
add_custom_target(aj_syscall_cost ALL DEPENDS ${AJ_SYSCALL_COST_BIN})
add_test(NAME bench.syscall_cost
  COMMAND ${PROJECT_SOURCE_DIR}/bench/syscall_smoke.sh $<TARGET_FILE:aurora-jail> ${AJ_SYSCALL_COST_BIN})
set_tests_properties(bench.syscall_cost PROPERTIES TIMEOUT 120)
