# ctest `oci.podman` and `oci.containerd`: real container engines drive aurora-runc
# (tests/oci/*.sh; docs/kubernetes.md says what they cover). Each skips (77) only where its
# engine or busybox-static is not installed, or when not run as root.
foreach(engine podman containerd)
  add_test(NAME oci.${engine} COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/oci/${engine}.sh $<TARGET_FILE:aurora-runc>)
  set_tests_properties(oci.${engine} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 180 RUN_SERIAL TRUE)
endforeach()
