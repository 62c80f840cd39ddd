# Longer ctest TIMEOUTs for the few tests whose run time grows with the machine's load.
# HostQueue.Heavy500... runs 500 sandboxes: about 15 s in a release tree on an idle
# machine, but 142 s measured under ASan with two CPU hogs beside it, uncomfortably close
# to the 300 s every discovered test gets. ctest only learns the discovered test names at
# test time, so this is a script it reads after the gtest lists (TEST_INCLUDE_FILES are
# read in order; this module is included after every aj_add_gtest call).
set(AJ_SLOW_TESTS_SCRIPT ${CMAKE_CURRENT_BINARY_DIR}/slow_tests_timeout.cmake)
file(WRITE ${AJ_SLOW_TESTS_SCRIPT} [==[
foreach(t IN LISTS host_queue_test_TESTS)
  if(t MATCHES "\\.HostQueue\\.Heavy500")
    set_tests_properties("${t}" PROPERTIES TIMEOUT 900)
  endif()
endforeach()
]==])
set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${AJ_SLOW_TESTS_SCRIPT})
