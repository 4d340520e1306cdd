// The composed direct stack with its Asio glue: two stacks on a memory_link,
// an application-level UDP exchange, ARP resolved on the way, the stack
// satisfying the module types it claims.
#include <catch2/catch.hpp>

#include <uk/concepts/stack.hpp>
#include <uk/direct/stack.hpp>
#include <uk/direct/static_config.hpp>
#include <uk/net/memory_link.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using uk::ipv4_address;

namespace {
using stack_type = uk::direct::stack<uk::net::memory_link::end, uk::direct::static_config>;
const ipv4_address a_ip = *ipv4_address::parse("10.0.0.1");
const ipv4_address b_ip = *ipv4_address::parse("10.0.0.2");
}  // namespace

TEST_CASE("direct stack: it is a uk::stack (UDP and TCP) and a uk::direct_stack") {
  STATIC_REQUIRE(uk::udp_stack<stack_type>);
  STATIC_REQUIRE(uk::direct_stack<stack_type>);
  STATIC_REQUIRE(uk::stack<stack_type>);
}

TEST_CASE("direct stack: a UDP echo between two stacks on a memory link, through ARP") {
  asio::io_context io;
  uk::net::memory_link link;
  uk::direct::static_config config_a({a_ip, 24}), config_b({b_ip, 24});
  stack_type a(io.get_executor(), link.a(), config_a, link.clock(), 1);
  stack_type b(io.get_executor(), link.b(), config_b, link.clock(), 2);

  // The wire: move frames whenever the loop is otherwise idle.
  bool done = false;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    asio::steady_timer t(io);
    while (!done) {
      link.deliver();
      t.expires_after(1ms);
      co_await t.async_wait(asio::use_awaitable);
    }
  }, asio::detached);

  std::string answer;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    auto server = co_await b.udp().bind(7);
    auto client = co_await a.udp().bind(0);
    const std::string_view question = "are you there?";
    co_await client.send_to({b_ip, 7}, std::as_bytes(std::span(question.data(), question.size())));
    auto request = co_await server.receive();
    CHECK(request.from == uk::ipv4_endpoint{a_ip, client.local_port()});
    co_await server.send_to(request.from, request.data);
    auto reply = co_await client.receive();
    answer.assign(reinterpret_cast<const char*>(reply.data.data()), reply.data.size());
    done = true;
    io.stop();  // the stacks' timers (ARP entry ageing) would keep the loop alive
  }, [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
  io.run();
  CHECK(answer == "are you there?");
  CHECK(a.arp().lookup(b_ip) == link.b().mac());
  CHECK(b.udp_layer().counters().rx_datagrams == 1);
}
