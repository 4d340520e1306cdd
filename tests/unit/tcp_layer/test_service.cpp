// The application side of the direct stack's TCP, end to end: two direct
// stacks on a memory_link, uk::tcp_layer awaitables, flows used through
// asio::async_read / async_write as an AsyncReadStream / AsyncWriteStream.
#include <catch2/catch.hpp>

#include <uk/concepts/stack.hpp>
#include <uk/direct/stack.hpp>
#include <uk/direct/static_config.hpp>
#include <uk/net/memory_link.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <functional>
#include <string>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using uk::ipv4_address;

namespace {

using stack_type = uk::direct::stack<uk::net::memory_link::end, uk::direct::static_config>;
const ipv4_address a_ip = *ipv4_address::parse("10.0.0.1");
const ipv4_address b_ip = *ipv4_address::parse("10.0.0.2");

/// Two stacks on one link; the wire moves frames and virtual time, 1 ms per turn of the loop.
struct two_stacks {
  two_stacks()
      : config_a({a_ip, 24}), config_b({b_ip, 24}),
        a(io.get_executor(), link.a(), config_a, link.clock(), 1),
        b(io.get_executor(), link.b(), config_b, link.clock(), 2) {}

  /// Runs `app` to its end (or fails after `limit` of virtual time).
  void run(std::function<asio::awaitable<void>()> app, uk::duration limit = 120s) {
    bool done = false;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
      asio::steady_timer t(io);
      const auto end = link.now() + limit;
      while (!done && link.now() < end) {
        link.advance(1ms);
        t.expires_after(100us);
        co_await t.async_wait(asio::use_awaitable);
      }
      io.stop();
    }, asio::detached);
    std::exception_ptr failure;
    asio::co_spawn(io, std::move(app), [&](std::exception_ptr e) {
      failure = e;
      done = true;
    });
    io.run();
    io.restart();
    REQUIRE(done);
    if (failure) std::rethrow_exception(failure);
  }

  asio::io_context io;
  uk::net::memory_link link;
  uk::direct::static_config config_a, config_b;
  stack_type a, b;
};

std::vector<std::byte> pattern(std::size_t n, unsigned seed) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>((i * 131 + seed) >> 3);
  return v;
}

}  // namespace

TEST_CASE("direct stack: with TCP it is a uk::stack, and its TCP a uk::tcp_layer") {
  STATIC_REQUIRE(uk::stack<stack_type>);
  STATIC_REQUIRE(uk::tcp_layer<stack_type::tcp_service_type>);
}

TEST_CASE("TCP service: 300 KB each way through asio::async_write and async_read, then a clean close") {
  two_stacks s;
  const auto up = pattern(300000, 1), down = pattern(300000, 2);
  std::vector<std::byte> got_up(up.size()), got_down(down.size());
  s.run([&]() -> asio::awaitable<void> {
    auto listener = co_await s.b.tcp().listen(5000);
    auto client = co_await s.a.tcp().connect({b_ip, 5000}, 5s);
    auto server = co_await listener.accept();
    CHECK(server.remote_endpoint() == client.local_endpoint());
    CHECK(server.local_endpoint() == uk::ipv4_endpoint{b_ip, 5000});
    // Both directions at once: the server writes while the client writes.
    bool server_done = false;
    asio::co_spawn(s.io, [&]() -> asio::awaitable<void> {
      co_await asio::async_write(server, asio::buffer(down), asio::use_awaitable);
      co_await asio::async_read(server, asio::buffer(got_up), asio::use_awaitable);
      // End of stream after the client's FIN.
      std::byte one;
      boost::system::error_code ec;
      co_await server.async_read_some(asio::buffer(&one, 1), asio::redirect_error(asio::use_awaitable, ec));
      CHECK(ec == asio::error::eof);
      server.close();
      server_done = true;
    }, asio::detached);
    co_await asio::async_write(client, asio::buffer(up), asio::use_awaitable);
    client.shutdown_send();
    co_await asio::async_read(client, asio::buffer(got_down), asio::use_awaitable);
    std::byte one;
    boost::system::error_code ec;
    co_await client.async_read_some(asio::buffer(&one, 1), asio::redirect_error(asio::use_awaitable, ec));
    CHECK(ec == asio::error::eof);
    // A write after shutdown_send fails.
    co_await client.async_write_some(asio::buffer(up.data(), 10), asio::redirect_error(asio::use_awaitable, ec));
    CHECK(ec == asio::error::shut_down);
    asio::steady_timer t(s.io);
    while (!server_done) {
      t.expires_after(1ms);
      co_await t.async_wait(asio::use_awaitable);
    }
  });
  CHECK(got_up == up);
  CHECK(got_down == down);
}

TEST_CASE("TCP service: connect to a closed port fails with connection_refused") {
  two_stacks s;
  s.run([&]() -> asio::awaitable<void> {
    boost::system::error_code ec;
    try {
      co_await s.a.tcp().connect({b_ip, 5001}, 5s);
    } catch (const boost::system::system_error& e) {
      ec = e.code();
    }
    CHECK(ec == asio::error::connection_refused);
  });
}

TEST_CASE("TCP service: connect to a silent host fails with timed_out after the timeout") {
  two_stacks s;
  s.run([&]() -> asio::awaitable<void> {
    boost::system::error_code ec;
    try {
      co_await s.a.tcp().connect({*ipv4_address::parse("10.0.0.9"), 80}, 50ms);
    } catch (const boost::system::system_error& e) {
      ec = e.code();
    }
    CHECK(ec == asio::error::timed_out);
  });
  CHECK(s.a.tcp_layer().connection_count() == 0);
}

TEST_CASE("TCP service: an abort on one side is connection_reset on the other") {
  two_stacks s;
  s.run([&]() -> asio::awaitable<void> {
    auto listener = co_await s.b.tcp().listen(5002);
    auto client = co_await s.a.tcp().connect({b_ip, 5002}, 5s);
    auto server = co_await listener.accept();
    client.abort();
    std::byte one;
    boost::system::error_code ec;
    co_await server.async_read_some(asio::buffer(&one, 1), asio::redirect_error(asio::use_awaitable, ec));
    CHECK(ec == asio::error::connection_reset);
  });
}

TEST_CASE("TCP service: a closed listener fails its pending accept with operation_aborted") {
  two_stacks s;
  s.run([&]() -> asio::awaitable<void> {
    auto listener = co_await s.b.tcp().listen(0);
    CHECK(listener.local_port() >= 49152);
    boost::system::error_code ec;
    asio::co_spawn(s.io, [&]() -> asio::awaitable<void> {
      try {
        co_await listener.accept();
      } catch (const boost::system::system_error& e) {
        ec = e.code();
      }
    }, asio::detached);
    asio::steady_timer t(s.io);
    t.expires_after(1ms);
    co_await t.async_wait(asio::use_awaitable);
    listener.close();
    t.expires_after(1ms);
    co_await t.async_wait(asio::use_awaitable);
    CHECK(ec == asio::error::operation_aborted);
  });
}
