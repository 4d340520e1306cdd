// The simple services of RFC 862 (echo), RFC 863 (discard) and RFC 864
// (character generator) over TCP, and echo and discard over UDP: the same
// source on kernel sockets and on the direct stack. Try it with nc or socat.
//
//   services-direct --ipv4=10.0.0.2/24 &      then, from the kernel side:
//   echo hi | nc 10.0.0.2 7                   echo (TCP)
//   nc 10.0.0.2 19 | head                     chargen
//   echo hi | nc -u 10.0.0.2 7                echo (UDP)
#include <uk/stack.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <cstdint>
#include <string_view>

namespace asio = boost::asio;
using uk::log::source;

struct port_key_base {
  using value_type = std::uint16_t;
  static constexpr std::string_view group = "services";
  static constexpr long long min = 1, max = 65535;
};

struct echo_port_key : port_key_base {
  static constexpr std::string_view name = "echo-port";
  static constexpr std::string_view doc = "The TCP and UDP port of echo (RFC 862: 7).";
  static constexpr std::string_view default_text = "7";
};
struct discard_port_key : port_key_base {
  static constexpr std::string_view name = "discard-port";
  static constexpr std::string_view doc = "The TCP and UDP port of discard (RFC 863: 9).";
  static constexpr std::string_view default_text = "9";
};
struct chargen_port_key : port_key_base {
  static constexpr std::string_view name = "chargen-port";
  static constexpr std::string_view doc = "The TCP port of the character generator (RFC 864: 19).";
  static constexpr std::string_view default_text = "19";
};
struct chargen_bytes_key {
  using value_type = std::uint64_t;
  static constexpr std::string_view name = "chargen-bytes";
  static constexpr std::string_view group = "services";
  static constexpr std::string_view doc =
      "Bytes chargen sends before it closes the connection itself; 0 sends until the client goes.";
  static constexpr std::string_view default_text = "0";
};

/// RFC 864: lines of 72 printable characters, each line starting one
/// character further along the 95 printable ASCII characters, ended by CR LF.
class chargen_pattern {
 public:
  static constexpr std::size_t line_length = 74;  // 72 characters + CR LF
  /// Byte `i` of the endless stream.
  static constexpr char at(std::uint64_t i) {
    const std::uint64_t line = i / line_length, column = i % line_length;
    if (column == 72) return '\r';
    if (column == 73) return '\n';
    return static_cast<char>(' ' + (line + column) % 95);
  }
};

struct services {
  using keys = uk::key_list<echo_port_key, discard_port_key, chargen_port_key, chargen_bytes_key>;

  template <uk::stack Stack, uk::lifecycle_device Lifecycle>
  static asio::awaitable<int> start(Stack& net, Lifecycle& lifecycle) {
    auto ex = co_await asio::this_coro::executor;
    auto echo = co_await net.tcp().listen(uk::key_value<echo_port_key>());
    auto discard = co_await net.tcp().listen(uk::key_value<discard_port_key>());
    auto chargen = co_await net.tcp().listen(uk::key_value<chargen_port_key>());
    auto udp_echo = co_await net.udp().bind(uk::key_value<echo_port_key>());
    auto udp_discard = co_await net.udp().bind(uk::key_value<discard_port_key>());
    uk::log::info(source::app, "echo on TCP and UDP {}, discard on TCP and UDP {}, chargen on TCP {}",
                  echo.local_port(), discard.local_port(), chargen.local_port());
    asio::co_spawn(ex, accept_loop(echo, &serve_echo<typename decltype(echo)::flow_type>), asio::detached);
    asio::co_spawn(ex, accept_loop(discard, &serve_discard<typename decltype(echo)::flow_type>), asio::detached);
    asio::co_spawn(ex, accept_loop(chargen, &serve_chargen<typename decltype(echo)::flow_type>), asio::detached);
    asio::co_spawn(ex, udp_loop(udp_echo, true), asio::detached);
    asio::co_spawn(ex, udp_loop(udp_discard, false), asio::detached);
    co_await lifecycle.await_shutdown_request();
    uk::log::info(source::app, "shutting down");
    echo.close();
    discard.close();
    chargen.close();
    udp_echo.close();
    udp_discard.close();
    co_return 0;
  }

  template <class Listener, class Serve>
  static asio::awaitable<void> accept_loop(Listener& listener, Serve serve) {
    auto ex = co_await asio::this_coro::executor;
    try {
      for (;;) {
        auto flow = co_await listener.accept();
        uk::log::debug(source::app, "port {}: connection from {}", listener.local_port(), flow.remote_endpoint());
        asio::co_spawn(ex, serve(std::move(flow)), asio::detached);
      }
    } catch (const boost::system::system_error&) {
      // the listener was closed at shutdown
    }
  }

  /// RFC 862: "any data received is sent back"; when the client is done, so are we.
  template <class Flow>
  static asio::awaitable<void> serve_echo(Flow flow) {
    std::array<std::byte, 16384> buffer;
    boost::system::error_code ec;
    for (;;) {
      const std::size_t n = co_await flow.async_read_some(asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      co_await asio::async_write(flow, asio::buffer(buffer.data(), n), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
    }
    if (ec == asio::error::eof) flow.shutdown_send();  // the client half-closed: finish our half
    else if (ec) uk::log::debug(source::app, "echo: {}", ec.message());
  }

  /// RFC 863: "any data received is thrown away".
  template <class Flow>
  static asio::awaitable<void> serve_discard(Flow flow) {
    std::array<std::byte, 16384> buffer;
    boost::system::error_code ec;
    while (!ec) co_await flow.async_read_some(asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::eof) flow.shutdown_send();
  }

  /// RFC 864: send the pattern until the client closes (or --chargen-bytes are sent).
  template <class Flow>
  static asio::awaitable<void> serve_chargen(Flow flow) {
    const std::uint64_t limit = uk::key_value<chargen_bytes_key>();
    std::array<char, 74 * 95> block;  // one whole cycle of the pattern
    for (std::size_t i = 0; i < block.size(); ++i) block[i] = chargen_pattern::at(i);
    std::uint64_t sent = 0;
    boost::system::error_code ec;
    while (limit == 0 || sent < limit) {
      const std::size_t at = sent % block.size();
      std::size_t n = block.size() - at;
      if (limit != 0 && limit - sent < n) n = static_cast<std::size_t>(limit - sent);
      sent += co_await flow.async_write_some(asio::buffer(block.data() + at, n), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
    }
    if (!ec) flow.close();  // the limit was reached: we close first
  }

  template <class Socket>
  static asio::awaitable<void> udp_loop(Socket& socket, bool echo) {
    try {
      for (;;) {
        auto [from, data] = co_await socket.receive();
        if (echo) co_await socket.send_to(from, data);
      }
    } catch (const boost::system::system_error&) {
      // the socket was closed at shutdown
    }
  }
};

int main(int argc, char** argv) { return uk::run<services>(argc, argv); }
