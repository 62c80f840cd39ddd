# ctest `compat.prototype_tests`: the Python prototype's own tests (tests/compat/prototype,
# unchanged) pass against the compat layer (python/compat/loader) and this build's
# aurora-jail; `.nobody` runs them again as uid 65534 (skipped when not root).
add_test(NAME compat.prototype_tests
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/compat/prototype_tests.sh ${PROJECT_SOURCE_DIR} $<TARGET_FILE:aurora-jail>)
add_test(NAME compat.prototype_tests.nobody
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/compat/prototype_tests.sh ${PROJECT_SOURCE_DIR} $<TARGET_FILE:aurora-jail>
          --as-nobody)
set_tests_properties(compat.prototype_tests compat.prototype_tests.nobody PROPERTIES
  SKIP_RETURN_CODE 77 TIMEOUT 300)
# ctest `compat.pip_install`: python/ installs with pip, offline, as pure Python.
add_test(NAME compat.pip_install COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/compat/pip_install.sh ${PROJECT_SOURCE_DIR})
set_tests_properties(compat.pip_install PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 120)
