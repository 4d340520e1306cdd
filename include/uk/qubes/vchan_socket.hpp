// uk::qubes::vchan_socket: a vchan over a Unix stream socket, byte-compatible
// with Qubes' own socket vchan (qubes-core-vchan-socket), the transport
// Qubes builds its daemons against for testing (qubes-protocols.md section 4).
//
//   server  unlinks `<dir>/vchan.<server>.<client>.<port>.sock`, binds,
//           listens and accepts exactly one client, then closes the listener
//           (the socket file stays, as upstream leaves it);
//   client  connects to the same path, retrying while the file is absent
//           (ENOENT) or nobody accepts (ECONNREFUSED), so the start order of
//           the two ends does not matter; any other error is thrown.
//
// Both take the address by value: they are coroutines, and a reference
// parameter would dangle if the caller's address died before the first resume.
//
// There are no handshake bytes, no framing and no close message: the socket
// byte stream is the vchan byte stream, and end-of-file means the peer is gone.
#pragma once

#include <chrono>
#include <filesystem>
#include <system_error>
#include <utility>

#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>

#include "uk/asio.hpp"
#include "uk/log.hpp"
#include "uk/qubes/vchan.hpp"

namespace uk::qubes {

/// How often a client tries again while the server's socket is absent or refuses.
inline constexpr std::chrono::milliseconds default_vchan_retry_interval{100};

class vchan_socket {
 public:
  using protocol = asio::local::stream_protocol;
  using executor_type = protocol::socket::executor_type;

  explicit vchan_socket(protocol::socket socket) : socket_(std::move(socket)) {}

  /// The server end: unlink, bind, listen, accept one client, close the listener.
  /// Creates `address.dir` when it is missing. Throws boost::system::system_error.
  static asio::awaitable<vchan_socket> listen(asio::any_io_executor executor, vchan_address address) {
    const auto path = address.socket_path();
    std::error_code ignored;
    std::filesystem::create_directories(address.dir, ignored);
    std::filesystem::remove(path, ignored);  // ENOENT is fine: upstream unlinks unconditionally
    protocol::acceptor acceptor(executor);
    acceptor.open();
    acceptor.bind(protocol::endpoint(path.string()));
    acceptor.listen(1);
    log::debug(log::source::runtime, "{}: listening on {}", address, path.string());
    auto socket = co_await acceptor.async_accept(asio::use_awaitable);
    acceptor.close();
    co_return vchan_socket(std::move(socket));
  }

  /// The client end: connects, retrying every `retry_interval` while the
  /// socket file is absent or refuses. Waits as long as it takes (as upstream
  /// does); cancel it from outside to give up. Throws boost::system::system_error
  /// on any other error.
  static asio::awaitable<vchan_socket> connect(asio::any_io_executor executor, vchan_address address,
                                               std::chrono::steady_clock::duration retry_interval =
                                                   default_vchan_retry_interval) {
    const protocol::endpoint endpoint(address.socket_path().string());
    asio::steady_timer timer(executor);
    bool logged = false;
    for (;;) {
      protocol::socket socket(executor);
      boost::system::error_code ec;
      co_await socket.async_connect(endpoint, asio::redirect_error(asio::use_awaitable, ec));
      if (!ec) co_return vchan_socket(std::move(socket));
      if (ec != asio::error::connection_refused && ec != boost::system::errc::no_such_file_or_directory)
        throw boost::system::system_error(ec, fmt::format("cannot connect to {}", address.socket_path().string()));
      if (!logged) {
        log::debug(log::source::runtime, "{}: waiting for {} ({})", address, address.socket_path().string(),
                   ec.message());
        logged = true;
      }
      timer.expires_after(retry_interval);
      co_await timer.async_wait(asio::use_awaitable);
    }
  }

  /// A connected pair of channels in this process, for tests.
  static std::pair<vchan_socket, vchan_socket> pair(asio::any_io_executor executor) {
    protocol::socket a(executor), b(executor);
    asio::local::connect_pair(a, b);
    return {vchan_socket(std::move(a)), vchan_socket(std::move(b))};
  }

  executor_type get_executor() noexcept { return socket_.get_executor(); }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return socket_.async_read_some(buffers, std::forward<Token>(token));
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return socket_.async_write_some(buffers, std::forward<Token>(token));
  }

  /// Ends the channel: the peer reads end-of-file; pending operations complete with operation_aborted.
  void close() noexcept {
    boost::system::error_code ignored;
    socket_.shutdown(protocol::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  bool is_open() const noexcept { return socket_.is_open(); }

  /// The socket inside, for what the channel does not offer (options, native handle).
  protocol::socket& socket() noexcept { return socket_; }

 private:
  protocol::socket socket_;
};

static_assert(vchan_stream<vchan_socket>);

}  // namespace uk::qubes
