# ctest vm.cgroup2: the cgroup v2 limit tests on Debian's kernel under qemu (tests/vm/),
# as root and as an unprivileged user with a delegated subtree; aurora-runc's freezer
# (pause) on a pure v2 host. Skipped (exit 77) when
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
    -b $<TARGET_FILE:fallback_mode_test> -b $<TARGET_FILE:aj_vm_runas>
    -b $<TARGET_FILE:oci_freezer_test>)
set_tests_properties(vm.cgroup2 PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 1200)

# ctest vm.systemd: Debian 12 booted with systemd as PID 1 (root file system built once
# with mmdebstrap from Debian's registry, cached under vm-systemd/): the .deb installed,
# aurora-jail-host.service enabled and answering requests with v2 limits in its delegated
# subtree, an ordinary user's run limited through a transient systemd scope, and
# aurora-runc on pure cgroup v2 (tests/vm/systemd/oci-v2: cgroupsPath resources, pause and
# resume, update, device rules, a container without cgroupsPath).
# Skipped (exit 77) without root, qemu, mmdebstrap or the registry.
if(NOT AJ_SANITIZE AND NOT AJ_FUZZ)
  add_test(NAME vm.systemd COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/vm/systemd-test.sh ${CMAKE_BINARY_DIR})
  set_tests_properties(vm.systemd PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 1200 RUN_SERIAL TRUE
    ENVIRONMENT "CMAKE_COMMAND=${CMAKE_COMMAND}")
endif()

# ctest vm.project_quota: the disk budget's project quotas (helper/project_quota.hpp) on an
# ext4 image with the quota and project features, loop-mounted with prjquota in the VM:
# a root caller's plugin run and empty --workdir, the fallback mode and an ordinary user.
# Skipped (exit 77) without qemu, mkfs.ext4 or the kernel and its modules.
add_executable(aj_vm_quota ${CMAKE_CURRENT_SOURCE_DIR}/vm/quota-tool.c)
target_compile_options(aj_vm_quota PRIVATE -fno-sanitize=all)
target_link_options(aj_vm_quota PRIVATE -static -fno-sanitize=all)
add_test(NAME vm.project_quota
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/vm/project-quota-test.sh ${CMAKE_BINARY_DIR}
    $<TARGET_FILE:aurora-jail> $<TARGET_FILE:aj_vm_runas> $<TARGET_FILE:aj_vm_quota>)
set_tests_properties(vm.project_quota PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)
