// The socket stack over the host kernel, on loopback.
#include <catch2/catch.hpp>

#include <uk/socket/stack.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/write.hpp>

#include <string_view>

namespace asio = boost::asio;
using uk::ipv4_address;

namespace {

const ipv4_address loopback = *ipv4_address::parse("127.0.0.1");

/// Runs `body` to completion on a fresh io_context; rethrows its exception.
template <class F>
void run_coroutine(F body) {
  asio::io_context io;
  std::exception_ptr failure;
  asio::co_spawn(io, body(io.get_executor()), [&](std::exception_ptr e) { failure = e; });
  io.run();
  if (failure) std::rethrow_exception(failure);
}

std::span<const std::byte> bytes_of(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

}  // namespace

TEST_CASE("socket stack: a UDP datagram round-trips between two bound sockets") {
  run_coroutine([](asio::any_io_executor ex) -> asio::awaitable<void> {
    uk::socket::stack net(ex, loopback);
    auto a = co_await net.udp().bind(0);
    auto b = co_await net.udp().bind(0);
    co_await a.send_to({loopback, b.local_port()}, bytes_of("ping"));
    auto got = co_await b.receive();
    CHECK(got.from == uk::ipv4_endpoint{loopback, a.local_port()});
    CHECK(std::string_view(reinterpret_cast<const char*>(got.data.data()), got.data.size()) == "ping");
  });
}

TEST_CASE("socket stack: binding a port in use throws address_in_use") {
  run_coroutine([](asio::any_io_executor ex) -> asio::awaitable<void> {
    uk::socket::stack net(ex, loopback);
    auto a = co_await net.udp().bind(0);
    bool threw = false;
    try {
      co_await net.udp().bind(a.local_port());
    } catch (const boost::system::system_error& e) {
      threw = e.code() == asio::error::address_in_use;
    }
    CHECK(threw);
  });
}

TEST_CASE("socket stack: TCP listen, connect, write, half-close and read to end of stream") {
  run_coroutine([](asio::any_io_executor ex) -> asio::awaitable<void> {
    uk::socket::stack net(ex, loopback);
    auto listener = co_await net.tcp().listen(0);
    auto client = co_await net.tcp().connect({loopback, listener.local_port()});
    auto server = co_await listener.accept();
    CHECK(server.remote_endpoint() == client.local_endpoint());

    co_await asio::async_write(client, asio::buffer(std::string_view("hello, uk")), asio::use_awaitable);
    client.shutdown_send();
    std::string received(64, '\0');
    boost::system::error_code ec;
    const std::size_t n = co_await asio::async_read(server, asio::buffer(received),
                                                    asio::redirect_error(asio::use_awaitable, ec));
    CHECK(ec == asio::error::eof);
    CHECK(received.substr(0, n) == "hello, uk");
  });
}

TEST_CASE("socket stack: connecting to a closed port is refused") {
  run_coroutine([](asio::any_io_executor ex) -> asio::awaitable<void> {
    uk::socket::stack net(ex, loopback);
    std::uint16_t closed_port;
    {
      auto l = co_await net.tcp().listen(0);
      closed_port = l.local_port();
    }
    boost::system::error_code code;
    try {
      co_await net.tcp().connect({loopback, closed_port});
    } catch (const boost::system::system_error& e) {
      code = e.code();
    }
    CHECK(code == asio::error::connection_refused);
  });
}

TEST_CASE("socket stack: abort resets the connection") {
  run_coroutine([](asio::any_io_executor ex) -> asio::awaitable<void> {
    uk::socket::stack net(ex, loopback);
    auto listener = co_await net.tcp().listen(0);
    auto client = co_await net.tcp().connect({loopback, listener.local_port()});
    auto server = co_await listener.accept();
    client.abort();
    char byte;
    boost::system::error_code ec;
    co_await server.async_read_some(asio::buffer(&byte, 1), asio::redirect_error(asio::use_awaitable, ec));
    CHECK(ec == asio::error::connection_reset);
  });
}
