# ctest vm.cgroup2: the cgroup v2 limit tests on Debian's kernel under qemu (tests/vm/),
# as root and as an unprivileged user with a delegated subtree. Skipped (exit 77) when
# qemu, a static busybox or the kernel image cannot be had.
add_executable(aj_vm_runas ${CMAKE_CURRENT_SOURCE_DIR}/vm/runas.c)
# Static, so it runs in the busybox guest; sanitizer runtimes cannot be linked statically.
target_compile_options(aj_vm_runas PRIVATE -fno-sanitize=all)
target_link_options(aj_vm_runas PRIVATE -static -fno-sanitize=all)
add_test(NAME vm.cgroup2
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/vm/vmtest.sh -o ${CMAKE_BINARY_DIR}/vm
    -r ${CMAKE_CURRENT_SOURCE_DIR}/vm/run-cgroup2.sh
    -b $<TARGET_FILE:aurora-jail> -b $<TARGET_FILE:cgroup_limits_test>
    -b $<TARGET_FILE:landlock_rules_test> -b $<TARGET_FILE:cgroup_run_test>
    -b $<TARGET_FILE:fallback_mode_test> -b $<TARGET_FILE:aj_vm_runas>)
set_tests_properties(vm.cgroup2 PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 1200)

# ctest vm.systemd: Debian 12 booted with systemd as PID 1 (root file system built once
# with mmdebstrap from Debian's registry, cached under vm-systemd/): the .deb installed,
# aurora-jail-host.service enabled and answering requests with v2 limits in its delegated
# subtree, and an ordinary user's run limited through a transient systemd scope.
# Skipped (exit 77) without root, qemu, mmdebstrap or the registry.
if(NOT AJ_SANITIZE AND NOT AJ_FUZZ)
  add_test(NAME vm.systemd COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/vm/systemd-test.sh ${CMAKE_BINARY_DIR})
  set_tests_properties(vm.systemd PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 1200 RUN_SERIAL TRUE
    ENVIRONMENT "CMAKE_COMMAND=${CMAKE_COMMAND}")
endif()
