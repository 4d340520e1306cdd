# Static tests of the foundation: target selection, the composed types,
# init_for, no Qubes code in a unix binary, keys and exit codes of hello.
set(expect_run "${CMAKE_CURRENT_SOURCE_DIR}/cmake/expect_run.cmake")
set(uk_include "${PROJECT_SOURCE_DIR}/include")

# -DUK_TARGET / -DUK_NET with an unknown value: a compile error listing the valid ones.
foreach(bad IN ITEMS "UK_TARGET=vax;UK_TARGET must be one of: unix, qubes"
                     "UK_NET=tcpip;UK_NET must be one of: socket, direct"
                     "UK_TARGET=qubes -DUK_NET=socket;UK_TARGET=qubes has no kernel sockets")
  list(GET bad 0 define)
  list(GET bad 1 expected)
  separate_arguments(define_args UNIX_COMMAND "-D${define}")
  add_test(NAME "target: -D${define} is a compile error"
           COMMAND ${CMAKE_CXX_COMPILER} -std=gnu++20 -fsyntax-only -I${uk_include} ${define_args}
                   -x c++ ${CMAKE_CURRENT_SOURCE_DIR}/static/selected_target.cpp)
  set_tests_properties("target: -D${define} is a compile error" PROPERTIES PASS_REGULAR_EXPRESSION "${expected}")
endforeach()

# uk::target::unix names the same type in GNU and ISO modes, and each mode's
# app selects it from -DUK_TARGET=unix.
foreach(mode IN ITEMS gnu iso)
  add_executable(uk_selected_target_${mode} static/selected_target.cpp)
  target_link_libraries(uk_selected_target_${mode} PRIVATE uk::uk)
  target_compile_definitions(uk_selected_target_${mode} PRIVATE UK_TARGET=unix UK_NET=socket)
  if(mode STREQUAL "gnu")
    set_target_properties(uk_selected_target_${mode} PROPERTIES CXX_EXTENSIONS ON)
  else()
    set_target_properties(uk_selected_target_${mode} PROPERTIES CXX_EXTENSIONS OFF)
  endif()
  add_test(NAME "target: uk::target::unix in ${mode} mode" COMMAND uk_selected_target_${mode})
  set_tests_properties("target: uk::target::unix in ${mode} mode" PROPERTIES
    PASS_REGULAR_EXPRESSION "selected uk::target::unix, uk::net::socket")
endforeach()

if(TARGET hello-socket)
  # The composed types and init_for, printed for the record and checked.
  add_executable(uk_print_composition static/print_composition.cpp)
  target_link_libraries(uk_print_composition PRIVATE uk::uk)
  add_test(NAME "composition: the types of each configuration" COMMAND uk_print_composition)
  set_tests_properties("composition: the types of each configuration" PROPERTIES
    PASS_REGULAR_EXPRESSION "stack_for<unix, socket> +uk::socket::stack.*every device connected")

  # A unix binary contains no Qubes code at all, even one that uses every device.
  foreach(binary IN ITEMS hello-socket uk_print_composition)
    add_test(NAME "composition: ${binary} (unix) has no qubes symbol"
             COMMAND sh -c "nm -C \"$1\" >/dev/null && ! nm -C \"$1\" | grep -i qubes" sh $<TARGET_FILE:${binary}>)
  endforeach()

  add_test(NAME "hello: says hello four times and exits 0"
    COMMAND ${CMAKE_COMMAND} "-DCOMMAND=$<TARGET_FILE:hello-socket>" -DEXPECT_EXIT=0
            "-DEXPECT_REGEX=info  app: hello .*\n.*info  app: hello .*\n.*info  app: hello .*\n.*info  app: hello "
            -P ${expect_run})
  add_test(NAME "hello: --help lists every key and exits 63"
    COMMAND ${CMAKE_COMMAND} "-DCOMMAND=$<TARGET_FILE:hello-socket>;--help" -DEXPECT_EXIT=63
            "-DEXPECT_REGEX=--hello=STRING.*--count=.*-l, --logs=SPEC" -P ${expect_run})
  add_test(NAME "hello: an unknown key exits 64 with a suggestion"
    COMMAND ${CMAKE_COMMAND} "-DCOMMAND=$<TARGET_FILE:hello-socket>;--cuont=2" -DEXPECT_EXIT=64
            "-DEXPECT_REGEX=did you mean --count" -P ${expect_run})
  add_test(NAME "hello: a bad value exits 64 saying what was expected"
    COMMAND ${CMAKE_COMMAND} "-DCOMMAND=$<TARGET_FILE:hello-socket>;--count=1001" -DEXPECT_EXIT=64
            "-DEXPECT_REGEX=--count: expected an integer from 0 to 1000" -P ${expect_run})
  add_test(NAME "hello: keys set the greeting and the count"
    COMMAND ${CMAKE_COMMAND} "-DCOMMAND=$<TARGET_FILE:hello-socket>;--hello;bonjour;--count=1" -DEXPECT_EXIT=0
            "-DEXPECT_REGEX=app: bonjour" "-DREJECT_REGEX=app: hello" -P ${expect_run})
  add_test(NAME "hello: -l quiet silences the log"
    COMMAND ${CMAKE_COMMAND} "-DCOMMAND=$<TARGET_FILE:hello-socket>;--count=1;-l;*:quiet" -DEXPECT_EXIT=0
            "-DREJECT_REGEX=hello" -P ${expect_run})
endif()
