# The fake dom0 qrexec-daemon and qubes-guid as programs, for the interop
# tests of -qubes unikernels (tests/qubes/fake_qrexec.cpp, fake_gui.cpp;
# the QubesDB one is built by interop/interop_tests.cmake).
foreach(tool IN ITEMS fake_qrexec fake_gui)
  add_executable(uk_${tool} "${CMAKE_CURRENT_SOURCE_DIR}/qubes/${tool}.cpp")
  target_link_libraries(uk_${tool} PRIVATE uk::uk)
  target_include_directories(uk_${tool} PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}")
endforeach()
