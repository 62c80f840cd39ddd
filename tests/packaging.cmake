# ctest `packaging.deb`: build the .deb, lint it, install it on this machine with apt,
# exercise the installed files, purge it and check nothing is left. Needs root (it
# installs a package): exits 77 = skipped otherwise. RUN_SERIAL: it changes the system
# and builds, so nothing else runs beside it. Not registered in sanitizer/fuzz trees:
# the package is made from the release build.
if(NOT AJ_SANITIZE AND NOT AJ_FUZZ)
  add_test(NAME packaging.deb
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/packaging/deb_test.sh ${CMAKE_BINARY_DIR})
  set_tests_properties(packaging.deb PROPERTIES
    SKIP_RETURN_CODE 77 TIMEOUT 900 RUN_SERIAL TRUE
    ENVIRONMENT "AJ_SOURCE_DIR=${PROJECT_SOURCE_DIR};CMAKE_COMMAND=${CMAKE_COMMAND}")
endif()

# ctest `packaging.docs`: docs, man pages and completion agree with the code; the
# shipped policies validate. No root needed.
add_test(NAME packaging.docs
  COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/packaging/docs_test.py ${PROJECT_SOURCE_DIR}
          $<TARGET_FILE:aurora-jail>)
