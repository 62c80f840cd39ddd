# ctest `workloads.NAME` and `nobody.workloads.NAME`: everyday programs under the built-in
# default policy (tests/workloads/workloads.sh), as the caller and as uid 65534. A program
# the host lacks is skipped (77); scripts/deps.sh --test installs them. The learned.*
# entries run each under the policy `aurora-jail learn` wrote for it.
foreach(w cc_make python_ssl whoami openssl_req alternatives_awk perl git sqlite3)
  add_test(NAME workloads.${w}
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/workloads/workloads.sh $<TARGET_FILE:aurora-jail> ${w})
  add_test(NAME nobody.workloads.${w}
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/workloads/workloads.sh $<TARGET_FILE:aurora-jail> ${w} --as-nobody)
  # The same, learned first (aurora-jail learn) and run under the policy it wrote.
  add_test(NAME workloads.learned.${w}
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/workloads/workloads.sh $<TARGET_FILE:aurora-jail> ${w} --learned)
  add_test(NAME nobody.workloads.learned.${w}
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/workloads/workloads.sh $<TARGET_FILE:aurora-jail> ${w} --learned --as-nobody)
  set_tests_properties(workloads.${w} nobody.workloads.${w} workloads.learned.${w} nobody.workloads.learned.${w}
    PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
endforeach()
