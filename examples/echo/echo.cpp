// UDP echo (RFC 862) on port 7, the same source on kernel sockets, on the
// direct stack and on Qubes. It stops cleanly on SIGINT/SIGTERM.
#include <uk/stack.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>

namespace asio = boost::asio;

struct port_key {
  using value_type = std::uint16_t;
  static constexpr std::string_view name = "port";
  static constexpr std::string_view group = "echo";
  static constexpr std::string_view doc = "The UDP port to echo on (RFC 862: 7).";
  static constexpr std::string_view default_text = "7";
  static constexpr long long min = 1, max = 65535;
};

struct echo {
  using keys = uk::key_list<port_key>;

  template <uk::udp_stack Stack, uk::lifecycle_device Lifecycle>
  static asio::awaitable<int> start(Stack& net, Lifecycle& lifecycle) {
    auto socket = co_await net.udp().bind(uk::key_value<port_key>());
    uk::log::info(uk::log::source::app, "echoing UDP on port {}", socket.local_port());
    asio::co_spawn(co_await asio::this_coro::executor, serve(socket), asio::detached);
    co_await lifecycle.await_shutdown_request();
    uk::log::info(uk::log::source::app, "shutting down");
    socket.close();
    co_return 0;
  }

  template <class Socket>
  static asio::awaitable<void> serve(Socket& socket) {
    try {
      for (;;) {
        auto [from, data] = co_await socket.receive();
        uk::log::debug(uk::log::source::app, "{} bytes from {}", data.size(), from);
        co_await socket.send_to(from, data);
      }
    } catch (const boost::system::system_error&) {
      // the socket was closed at shutdown
    }
  }
};

int main(int argc, char** argv) { return uk::run<echo>(argc, argv); }
