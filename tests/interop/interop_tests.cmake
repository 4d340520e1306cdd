# Interop tests against the Linux kernel: each makes its own network
# namespace with a TAP device, removes it, and skips (exit 77) when not root.
add_executable(uk_udp_probe interop/udp_probe.cpp)

function(uk_interop_test name script)
  add_test(NAME "interop: ${name}" COMMAND bash "${CMAKE_CURRENT_SOURCE_DIR}/interop/${script}" ${ARGN})
  set_tests_properties("interop: ${name}" PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300 RUN_SERIAL ON)
endfunction()

if(TARGET echo-direct)
  uk_interop_test("echo-direct answers ping, arping and UDP from Linux over TAP" echo_direct.sh
    $<TARGET_FILE:echo-direct> $<TARGET_FILE:uk_udp_probe> "${CMAKE_CURRENT_BINARY_DIR}/interop-echo")
endif()
if(TARGET hello-network-direct)
  uk_interop_test("hello-network-direct's frame reaches the kernel" hello_network.sh
    $<TARGET_FILE:hello-network-direct> "${CMAKE_CURRENT_BINARY_DIR}/interop-hello")
endif()

add_executable(uk_frame_blaster interop/frame_blaster.cpp)
target_link_libraries(uk_frame_blaster PRIVATE uk::uk)
if(TARGET echo-direct)
  uk_interop_test("hostile frames leave echo-direct answering, memory bounded, drops counted" hostile.sh
    $<TARGET_FILE:echo-direct> $<TARGET_FILE:uk_frame_blaster> "${CMAKE_CURRENT_BINARY_DIR}/interop-hostile")
endif()

foreach(variant IN ITEMS socket direct)
  if(TARGET www-${variant})
    uk_interop_test("www-${variant} serves curl: files, HEAD, Range, 304, keep-alive, 100 clients, 400" www.sh
      ${variant} $<TARGET_FILE:www-${variant}> "${CMAKE_CURRENT_BINARY_DIR}/interop-www-${variant}")
  endif()
endforeach()
if(TARGET echo-direct)
  uk_interop_test("dhcp: echo-direct leases an address from dnsmasq, answers ping on it, renews, rebinds, releases"
    dhcp_lease.sh $<TARGET_FILE:echo-direct> "${CMAKE_CURRENT_BINARY_DIR}/interop-dhcp-lease")
  uk_interop_test("dhcp: echo-direct declines an offered address that another host uses (RFC 5227)"
    dhcp_decline.sh $<TARGET_FILE:echo-direct> "${CMAKE_CURRENT_BINARY_DIR}/interop-dhcp-decline")
endif()

add_executable(uk_tcp_client interop/tcp_client.cpp)
find_package(Threads REQUIRED)
target_link_libraries(uk_tcp_client PRIVATE Threads::Threads)
if(TARGET services-direct)
  # 1 GiB each way (about 40 s optimized); 256 MiB in a Debug build under the sanitizers, 6 times slower.
  uk_interop_test("TCP: 1 GiB each way between Linux and services-direct, sha256 compared" tcp_transfer.sh
    $<TARGET_FILE:services-direct> $<TARGET_FILE:uk_tcp_client> "${CMAKE_CURRENT_BINARY_DIR}/interop-tcp-transfer"
    $<IF:$<CONFIG:Debug>,268435456,1073741824>)
  set_tests_properties("interop: TCP: 1 GiB each way between Linux and services-direct, sha256 compared"
    PROPERTIES TIMEOUT 600)
  uk_interop_test("TCP: 200 concurrent, refused, Linux resets, either side closes first, slow reader" tcp_behaviour.sh
    $<TARGET_FILE:services-direct> $<TARGET_FILE:uk_tcp_client> "${CMAKE_CURRENT_BINARY_DIR}/interop-tcp-behaviour")
  # SACK loss recovery against Linux: 2 % of the segments dropped each way by nftables in the namespace.
  uk_interop_test("TCP: 2 percent loss each way, SACK recovery with Linux, sha256 compared" tcp_loss.sh
    $<TARGET_FILE:services-direct> $<TARGET_FILE:uk_tcp_client> "${CMAKE_CURRENT_BINARY_DIR}/interop-tcp-loss"
    $<IF:$<CONFIG:Debug>,16777216,67108864>)
  set_tests_properties("interop: TCP: 2 percent loss each way, SACK recovery with Linux, sha256 compared"
    PROPERTIES TIMEOUT 600)
endif()

# Qubes: a fake dom0 QubesDB daemon (tests/qubes/fake_qubesdb.cpp) serves the VM over the socket vchan.
add_executable(uk_fake_qubesdb qubes/fake_qubesdb.cpp)
target_link_libraries(uk_fake_qubesdb PRIVATE uk::uk)
target_include_directories(uk_fake_qubesdb PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}")
if(TARGET echo-qubes)
  uk_interop_test("echo-qubes takes its address from a fake QubesDB, answers ping and UDP, follows dom0" qubes_echo.sh
    $<TARGET_FILE:echo-qubes> $<TARGET_FILE:uk_fake_qubesdb> $<TARGET_FILE:uk_udp_probe>
    "${CMAKE_CURRENT_BINARY_DIR}/interop-qubes-echo" $<TARGET_FILE:uk_fake_qrexec> $<TARGET_FILE:uk_fake_gui>)
endif()

if(TARGET www-qubes)
  uk_interop_test("www-qubes takes its address from a fake QubesDB and serves curl" www.sh
    qubes $<TARGET_FILE:www-qubes> "${CMAKE_CURRENT_BINARY_DIR}/interop-www-qubes"
    $<TARGET_FILE:uk_fake_qubesdb> $<TARGET_FILE:uk_fake_qrexec> $<TARGET_FILE:uk_fake_gui>)
endif()
