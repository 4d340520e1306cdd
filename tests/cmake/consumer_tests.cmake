# Packaging tests: consumers through find_package and add_subdirectory, and
# uk_add_unikernel's configure-time checks.
set(consumer_prefix "${CMAKE_BINARY_DIR}/consumer-prefix")
add_test(NAME "package: install to a prefix"
         COMMAND ${CMAKE_COMMAND} --install ${CMAKE_BINARY_DIR} --prefix ${consumer_prefix})
set_tests_properties("package: install to a prefix" PROPERTIES FIXTURES_SETUP uk_installed)

# Built in GNU mode (CMake's default): g++ predefines the macro `unix` there.
add_test(NAME "package: consumer through find_package (gnu++20)"
  COMMAND ${CMAKE_CTEST_COMMAND} --build-and-test
          ${CMAKE_CURRENT_SOURCE_DIR}/cmake/consumer ${CMAKE_BINARY_DIR}/consumer-find-package
          --build-generator ${CMAKE_GENERATOR}
          --build-options -DUK_CONSUME=find_package -DCMAKE_PREFIX_PATH=${consumer_prefix}
                          -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER} -DCMAKE_CXX_EXTENSIONS=ON
          --test-command consumer-socket --logs=app:info)
set_tests_properties("package: consumer through find_package (gnu++20)" PROPERTIES
  FIXTURES_REQUIRED uk_installed PASS_REGULAR_EXPRESSION "consumer of uk works")

# Built in ISO mode.
add_test(NAME "package: consumer through add_subdirectory (c++20)"
  COMMAND ${CMAKE_CTEST_COMMAND} --build-and-test
          ${CMAKE_CURRENT_SOURCE_DIR}/cmake/consumer ${CMAKE_BINARY_DIR}/consumer-add-subdirectory
          --build-generator ${CMAKE_GENERATOR}
          --build-options -DUK_CONSUME=add_subdirectory -DUK_SOURCE_DIR=${PROJECT_SOURCE_DIR}
                          -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER} -DCMAKE_CXX_EXTENSIONS=OFF
          --test-command consumer-socket)
set_tests_properties("package: consumer through add_subdirectory (c++20)" PROPERTIES
  PASS_REGULAR_EXPRESSION "consumer of uk works")

foreach(bad IN ITEMS "vax;socket;TARGET 'vax' is not one of: unix, qubes"
                     "unix;tcpip;NET 'tcpip' is not one of: socket, direct"
                     "qubes;socket;TARGET qubes has no kernel sockets")
  list(GET bad 0 bad_target)
  list(GET bad 1 bad_net)
  list(GET bad 2 expected)
  add_test(NAME "package: uk_add_unikernel rejects TARGET ${bad_target} NET ${bad_net}"
    COMMAND ${CMAKE_COMMAND} -S ${CMAKE_CURRENT_SOURCE_DIR}/cmake/bad_configuration
            -B ${CMAKE_BINARY_DIR}/bad-configuration-${bad_target}-${bad_net}
            -DUK_SOURCE_DIR=${PROJECT_SOURCE_DIR} -DBAD_TARGET=${bad_target} -DBAD_NET=${bad_net})
  set_tests_properties("package: uk_add_unikernel rejects TARGET ${bad_target} NET ${bad_net}"
    PROPERTIES WILL_FAIL OFF PASS_REGULAR_EXPRESSION "${expected}")
endforeach()
