// UDP over kernel sockets (Mirage's Udpv4_socket), through Asio.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include <boost/asio/ip/udp.hpp>

#include "uk/concepts/udp.hpp"
#include "uk/socket/endpoint.hpp"

namespace uk::socket {

/// A bound kernel UDP socket.
class udp_socket {
 public:
  /// The largest UDP payload IPv4 can carry (RFC 768; RFC 791 total length 65535).
  static constexpr std::size_t max_datagram = 65535 - 20 - 8;

  explicit udp_socket(asio::ip::udp::socket socket)
      : socket_(std::move(socket)), buffer_(std::make_unique<std::byte[]>(max_datagram)) {}

  asio::awaitable<received_datagram> receive() {
    asio::ip::udp::endpoint from;
    const std::size_t n = co_await socket_.async_receive_from(
        asio::buffer(buffer_.get(), max_datagram), from, asio::use_awaitable);
    co_return received_datagram{from_asio(from), std::span<const std::byte>(buffer_.get(), n)};
  }

  asio::awaitable<void> send_to(ipv4_endpoint to, std::span<const std::byte> data) {
    co_await socket_.async_send_to(asio::buffer(data.data(), data.size()), to_asio_udp(to),
                                   asio::use_awaitable);
  }

  std::uint16_t local_port() const { return socket_.local_endpoint().port(); }

  void close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

 private:
  asio::ip::udp::socket socket_;
  std::unique_ptr<std::byte[]> buffer_;  // one receive buffer per socket, reused
};

/// The UDP layer of the socket stack.
class udp {
 public:
  using socket_type = udp_socket;

  udp(asio::any_io_executor executor, ipv4_address bind_address)
      : executor_(std::move(executor)), bind_address_(bind_address) {}

  /// Binds `port` (0: the kernel picks an ephemeral port) on the stack's address.
  asio::awaitable<udp_socket> bind(std::uint16_t port) {
    asio::ip::udp::socket s(executor_, asio::ip::udp::v4());
    s.bind(to_asio_udp({bind_address_, port}));  // throws system_error (address_in_use, ...)
    co_return udp_socket(std::move(s));
  }

 private:
  asio::any_io_executor executor_;
  ipv4_address bind_address_;
};

static_assert(udp_layer<udp>);

}  // namespace uk::socket
