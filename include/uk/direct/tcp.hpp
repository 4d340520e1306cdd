// The direct stack's TCP (RFC 9293), as mirage-tcpip's Tcp.Flow splits it:
//   tcp::connection       the sans-IO state machine of one connection (tcp/connection.hpp)
//   tcp::layer<Ip>        the packet layer: demultiplexing, listeners and backlog,
//                         SYN cookies, ISNs, ports, timers (tcp/layer.hpp)
//   tcp::service<Layer>   uk::tcp_layer with Asio awaitables: listeners and flows
//                         that are Asio AsyncRead/WriteStreams (tcp/service.hpp)
#pragma once

#include "uk/direct/tcp/connection.hpp"
#include "uk/direct/tcp/flow.hpp"
#include "uk/direct/tcp/layer.hpp"
#include "uk/direct/tcp/listener.hpp"
#include "uk/direct/tcp/service.hpp"
