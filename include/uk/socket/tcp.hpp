// TCP over kernel sockets (Mirage's Tcpv4_socket), through Asio.
#pragma once

#include <cstdint>
#include <utility>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>

#include "uk/concepts/tcp.hpp"
#include "uk/socket/endpoint.hpp"

namespace uk::socket {

/// A kernel TCP connection. It is an Asio AsyncReadStream/AsyncWriteStream.
class tcp_flow {
 public:
  using executor_type = asio::ip::tcp::socket::executor_type;

  explicit tcp_flow(asio::ip::tcp::socket socket) : socket_(std::move(socket)) {}

  executor_type get_executor() { return socket_.get_executor(); }

  template <class Buffers, class Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    return socket_.async_read_some(buffers, std::forward<Token>(token));
  }
  template <class Buffers, class Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    return socket_.async_write_some(buffers, std::forward<Token>(token));
  }

  void shutdown_send() {
    boost::system::error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  }
  void close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }
  /// Resets the connection: SO_LINGER with a zero timeout makes close() send RST.
  void abort() {
    boost::system::error_code ignored;
    socket_.set_option(asio::socket_base::linger(true, 0), ignored);
    socket_.close(ignored);
  }
  /// Disables Nagle's algorithm (TCP_NODELAY).
  void set_no_delay(bool on) { socket_.set_option(asio::ip::tcp::no_delay(on)); }

  ipv4_endpoint local_endpoint() const { return from_asio(socket_.local_endpoint()); }
  ipv4_endpoint remote_endpoint() const { return from_asio(socket_.remote_endpoint()); }

 private:
  asio::ip::tcp::socket socket_;
};

/// A kernel listening socket.
class tcp_listener {
 public:
  using flow_type = tcp_flow;

  explicit tcp_listener(asio::ip::tcp::acceptor acceptor) : acceptor_(std::move(acceptor)) {}

  asio::awaitable<tcp_flow> accept() { co_return tcp_flow(co_await acceptor_.async_accept(asio::use_awaitable)); }
  std::uint16_t local_port() const { return acceptor_.local_endpoint().port(); }
  void close() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  }

 private:
  asio::ip::tcp::acceptor acceptor_;
};

/// The TCP layer of the socket stack.
class tcp {
 public:
  using flow_type = tcp_flow;
  using listener_type = tcp_listener;

  /// A connect() without a timeout of its own gives up after this long.
  static constexpr duration default_connect_timeout = std::chrono::seconds(75);

  tcp(asio::any_io_executor executor, ipv4_address bind_address)
      : executor_(std::move(executor)), bind_address_(bind_address) {}

  asio::awaitable<tcp_listener> listen(std::uint16_t port) {
    asio::ip::tcp::acceptor a(executor_);
    const auto endpoint = to_asio_tcp({bind_address_, port});
    a.open(endpoint.protocol());
    a.set_option(asio::socket_base::reuse_address(true));
    a.bind(endpoint);  // throws system_error (address_in_use, ...)
    a.listen();
    co_return tcp_listener(std::move(a));
  }

  asio::awaitable<tcp_flow> connect(ipv4_endpoint to) { return connect(to, default_connect_timeout); }

  /// Connects, or throws system_error: connection_refused, timed_out, ...
  asio::awaitable<tcp_flow> connect(ipv4_endpoint to, duration timeout) {
    asio::ip::tcp::socket s(executor_, asio::ip::tcp::v4());
    if (!bind_address_.is_unspecified()) s.bind(to_asio_tcp({bind_address_, 0}));
    // The timer closes the socket when it fires, which aborts the connect.
    bool timed_out = false;
    asio::steady_timer timer(executor_, timeout);
    timer.async_wait([&](boost::system::error_code ec) {
      if (ec) return;  // cancelled: the connect finished first
      timed_out = true;
      boost::system::error_code ignored;
      s.close(ignored);
    });
    boost::system::error_code ec;
    co_await s.async_connect(to_asio_tcp(to), asio::redirect_error(asio::use_awaitable, ec));
    timer.cancel();
    if (timed_out) ec = asio::error::timed_out;
    if (ec) throw boost::system::system_error(ec, "connect");
    co_return tcp_flow(std::move(s));
  }

 private:
  asio::any_io_executor executor_;
  ipv4_address bind_address_;
};

static_assert(tcp_layer<tcp>);

}  // namespace uk::socket
