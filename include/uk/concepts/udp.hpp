// Module type UDP (Mirage_protocols.UDP), application side: bind a port,
// receive and send datagrams with C++20 coroutines on Asio.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>

#include "uk/addr.hpp"
#include "uk/asio.hpp"

namespace uk {

/// A datagram as received: `data` stays valid until the socket's next receive().
struct received_datagram {
  ipv4_endpoint from{};
  std::span<const std::byte> data{};
};

/// A bound UDP socket.
///   co_await s.receive()          the next datagram for our port
///   co_await s.send_to(to, data)  sends one datagram (fragmented by IPv4 if needed)
///   s.local_port()                the port bound
///   s.close()                     unbinds; pending receives complete with operation_aborted
/// Failures are thrown as boost::system::system_error, as Asio's awaitables do.
template <class S>
concept udp_socket = requires(S& s, const S& cs, ipv4_endpoint to, std::span<const std::byte> data) {
  { s.receive() } -> std::same_as<asio::awaitable<received_datagram>>;
  { s.send_to(to, data) } -> std::same_as<asio::awaitable<void>>;
  { cs.local_port() } -> std::same_as<std::uint16_t>;
  { s.close() } -> std::same_as<void>;
};

/// A UDP layer.
///   co_await u.bind(port)  a socket on `port`; port 0 picks an ephemeral port
template <class U>
concept udp_layer = requires(U& u, std::uint16_t port) {
  typename U::socket_type;
  requires udp_socket<typename U::socket_type>;
  { u.bind(port) } -> std::same_as<asio::awaitable<typename U::socket_type>>;
};

}  // namespace uk
