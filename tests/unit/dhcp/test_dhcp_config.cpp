// uk::direct::dhcp_config plugged into the direct stack's layers (Ethernet,
// ARP, IPv4, UDP) over a memory_link on virtual time, against a small DHCP
// server built from the same layers on the other end: the lease reaches the
// IPv4 and ARP layers, a conflict found by an ARP probe is declined, an
// expired lease takes the address away, DHCPRELEASE goes out on detach.
#include <catch2/catch.hpp>

#include <algorithm>
#include <vector>

#include "uk/direct/arp.hpp"
#include "uk/direct/dhcp_config.hpp"
#include "uk/direct/dhcp_or_static_config.hpp"
#include "uk/direct/ethernet.hpp"
#include "uk/direct/ipv4.hpp"
#include "uk/direct/static_config.hpp"
#include "uk/direct/udp.hpp"
#include "uk/direct/stack.hpp"
#include "uk/net/memory_link.hpp"
#include "uk/runtime/clock.hpp"
#include "uk/wire/dhcp.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace {

using namespace std::chrono_literals;
namespace dhcp = uk::wire::dhcp;
using uk::instant;
using uk::ipv4_address;
using uk::ipv4_prefix;
using mt = dhcp::message_type;

using eth_t = uk::direct::ethernet<uk::net::memory_link::end>;
using arp_t = uk::direct::arp<eth_t>;

constexpr ipv4_address server_ip = ipv4_address::from_octets(10, 0, 0, 1);
constexpr ipv4_address pool_ip = ipv4_address::from_octets(10, 0, 0, 100);
constexpr ipv4_address pool2_ip = ipv4_address::from_octets(10, 0, 0, 101);

/// The layers of one host on one end of the link.
template <class Config>
struct host {
  eth_t eth;
  arp_t arp;
  uk::direct::ipv4<eth_t, arp_t, Config> ip;
  uk::direct::udp<uk::direct::ipv4<eth_t, arp_t, Config>> udp;

  host(uk::net::memory_link::end& end, Config& config, uk::clock_ref clock)
      : eth(end), arp(eth, clock), ip(eth, arp, config, clock), udp(ip) {}
};

/// A DHCP server on 10.0.0.1: offers `offer` (the next address after a
/// DECLINE), ACKs every REQUEST with a lease of `lease` seconds, or is silent.
struct test_server {
  uk::direct::static_config config{{server_ip, 24}};
  host<uk::direct::static_config> h;
  ipv4_address offer = pool_ip;
  std::uint32_t lease = 600;
  bool silent = false;
  std::vector<mt> received;
  std::vector<std::uint32_t> xids;

  test_server(uk::net::memory_link::end& end, uk::clock_ref clock) : h(end, config, clock) {
    h.udp.bind(dhcp::server_port, uk::direct::udp_handler::bind<&test_server::on_message>(*this));
  }

  void on_message(const uk::direct::udp_datagram_info&, uk::frame payload) {
    const auto m = dhcp::parse(payload);
    REQUIRE(m);
    received.push_back(*m->options().message_type);
    xids.push_back(m->xid());
    if (silent) return;
    dhcp::repr r;
    r.op = dhcp::opcode::boot_reply;
    r.xid = m->xid();
    r.set_client_mac(*m->client_mac());
    r.broadcast = m->broadcast();
    r.options.server_id = server_ip;
    switch (*m->options().message_type) {
      case mt::discover: r.options.message_type = mt::offer; break;
      case mt::request: r.options.message_type = mt::ack; break;
      case mt::decline: offer = pool2_ip; return;
      default: return;
    }
    r.yiaddr = m->options().requested_ip.value_or(m->ciaddr().is_unspecified() ? offer : m->ciaddr());
    if (*r.options.message_type == mt::offer) r.yiaddr = offer;
    r.options.lease_time = lease;
    r.options.subnet_mask = ipv4_address::from_octets(255, 255, 255, 0);
    r.options.routers.push_back(server_ip);
    std::vector<std::byte> out(r.length());
    dhcp::emit(r, out);
    auto copy = [&](std::span<std::byte> to) {
      std::copy(out.begin(), out.end(), to.begin());
      return out.size();
    };
    const ipv4_address to = m->broadcast() ? ipv4_address::broadcast() : m->ciaddr();
    h.udp.transmit(dhcp::server_port, {to, dhcp::client_port}, out.size(), uk::frame_filler(copy));
  }
};

/// Our host with a DHCP configuration on end a, the server on end b.
template <class Config = uk::direct::dhcp_config>
struct network {
  uk::net::memory_link link;
  test_server server;
  Config config;
  host<Config> us;
  int changes = 0;

  template <class... Args>
  explicit network(Args&&... args)
      : server(link.b(), link.clock()), config(std::forward<Args>(args)...), us(link.a(), config, link.clock()) {
    config.attach(us.udp, us.arp, link.a().mac(), link.clock(), 99);
  }
  ~network() { config.detach(); }  // while the layers exist, as the stack does

  /// Runs frames and timers of both hosts up to `t`.
  void run_until(instant t) {
    for (;;) {
      link.deliver();
      const instant now = link.now();
      const instant next = std::min({config.poll(now), us.arp.poll(now), server.h.arp.poll(now), us.ip.poll(now)});
      link.deliver();
      if (next > t) break;
      link.advance_to(std::max(next, now + 1ns));
    }
    link.advance_to(t);
    link.deliver();
  }
  void run_for(uk::duration d) { run_until(link.now() + d); }
};

}  // namespace

TEST_CASE("dhcp_config: the stack's layers get the lease: IPv4 address and gateway, ARP answers for it",
          "[dhcp][stack]") {
  network<> n(uk::direct::dhcp_config_options{.hostname = "uk-test", .remembered = std::nullopt, .client = {}});
  CHECK_FALSE(n.us.ip.address());
  n.run_for(10s);
  REQUIRE(n.us.ip.address());
  CHECK(*n.us.ip.address() == ipv4_prefix{pool_ip, 24});
  CHECK(n.us.ip.gateway() == server_ip);
  CHECK(n.us.arp.address() == pool_ip);
  CHECK(n.server.received == std::vector<mt>{mt::discover, mt::request});
  // RFC 5227 2.1.1: three probes went out before the address was used.
  CHECK(n.us.arp.counters().probes_out == 3);
  CHECK(n.config.lease()->lease_time == 600s);
  CHECK(n.config.client()->state() == uk::direct::dhcp_state::bound);
}

TEST_CASE("dhcp_config: RFC 5227 conflict: the server's own address answers the probe, DECLINE, another address",
          "[dhcp][stack]") {
  network<> n;
  n.server.offer = server_ip;  // an address in use: the server host's own, which its ARP defends
  n.run_for(30s);
  CHECK(n.config.client()->counters().conflicts == 1);
  CHECK(std::count(n.server.received.begin(), n.server.received.end(), mt::decline) == 1);
  REQUIRE(n.us.ip.address());
  CHECK(n.us.ip.address()->address == pool2_ip);
}

TEST_CASE("dhcp_config: renewal is unicast to the server through ARP, and keeps the address", "[dhcp][stack]") {
  network<> n;
  n.run_for(10s);
  REQUIRE(n.us.ip.address());
  n.run_for(300s);  // T1 of a 600 s lease
  CHECK(n.config.client()->counters().renewals == 1);
  CHECK(n.server.received.back() == mt::request);
  CHECK(n.us.ip.address()->address == pool_ip);
  CHECK(n.us.arp.lookup(server_ip));  // resolved to unicast the REQUEST
}

TEST_CASE("dhcp_config: when the lease expires the IPv4 layer loses its address and sends nothing from it",
          "[dhcp][stack]") {
  network<> n;
  n.run_for(10s);
  REQUIRE(n.us.ip.address());
  n.server.silent = true;
  n.run_for(600s);
  CHECK_FALSE(n.us.ip.address());
  CHECK(n.us.arp.address() == ipv4_address{});
  CHECK(n.config.client()->counters().expiries == 1);
  // A datagram to the server now has no source address to leave from.
  auto fill = [](std::span<std::byte> out) { return out.size(); };
  CHECK_FALSE(n.us.ip.transmit(server_ip, 17, 8, uk::frame_filler(fill)));
  CHECK(n.us.ip.counters().tx_dropped_no_address == 1);
  // And it keeps trying: DISCOVERs go out again.
  CHECK(n.server.received.back() == mt::discover);
}

TEST_CASE("dhcp_config: detach() releases the lease (RFC 2131 4.4.6) and frees port 68", "[dhcp][stack]") {
  network<> n;
  n.run_for(10s);
  REQUIRE(n.us.ip.address());
  n.config.detach();
  n.link.deliver();
  CHECK(n.server.received.back() == mt::release);
  CHECK_FALSE(n.us.ip.address());
  CHECK_FALSE(n.us.udp.is_bound(dhcp::client_port));
}

TEST_CASE("dhcp_config: a datagram to port 68 from another port than 67 is dropped and counted", "[dhcp][stack]") {
  network<> n;
  auto fill = [](std::span<std::byte> out) { return out.size(); };
  n.server.h.udp.transmit(1067, {ipv4_address::broadcast(), dhcp::client_port}, 300, uk::frame_filler(fill));
  n.link.deliver();
  CHECK(n.config.counters().rx_wrong_port == 1);
}

TEST_CASE("default_config: DHCP without --ipv4, the static address with it", "[dhcp][stack]") {
  uk::direct::default_config with_dhcp(uk::direct::dhcp_config_options{});
  CHECK(with_dhcp.uses_dhcp());
  CHECK_FALSE(with_dhcp.address());
  uk::direct::default_config fixed(ipv4_prefix{pool_ip, 24}, server_ip);
  CHECK_FALSE(fixed.uses_dhcp());
  CHECK(fixed.address() == ipv4_prefix{pool_ip, 24});
  CHECK(fixed.gateway() == server_ip);
  CHECK_FALSE(fixed.lease());
  CHECK(fixed.poll(instant{}) == uk::never);
}

TEST_CASE("default_config over DHCP gets a lease through the layers", "[dhcp][stack]") {
  network<uk::direct::default_config> n(uk::direct::dhcp_config_options{});
  n.run_for(10s);
  REQUIRE(n.config.lease());
  CHECK(n.us.ip.address()->address == pool_ip);
}

TEST_CASE("dhcp_hostname_from: a program name becomes a DHCP host name", "[dhcp]") {
  CHECK(uk::direct::dhcp_hostname_from("echo-direct") == "echo-direct");
  CHECK(uk::direct::dhcp_hostname_from("a_b.c") == "a-b-c");
  CHECK(uk::direct::dhcp_hostname_from("") == "uk");
  CHECK(uk::direct::dhcp_hostname_from(std::string(100, 'x')).size() == 63);
}

TEST_CASE("direct::stack over dhcp_config: connect() returns once leased, the app reads the lease, the stack's end "
          "releases it (RFC 2131 4.4.6)",
          "[dhcp][stack]") {
  namespace asio = boost::asio;
  using stack_type = uk::direct::stack<uk::net::memory_link::end, uk::direct::dhcp_config>;
  asio::io_context io;
  uk::net::memory_link link;
  uk::monotonic_clock clock;
  const uk::clock_ref now = uk::clock_ref::bind<&uk::monotonic_clock::now>(clock);
  test_server server(link.b(), now);
  uk::direct::dhcp_config_options options;
  options.hostname = "uk-test";
  options.client.probe_count = 0;  // real time here: no 5 s of ARP probing
  uk::direct::dhcp_config config(options);
  std::optional<stack_type> stack;
  stack.emplace(io.get_executor(), link.a(), config, now, 5);

  bool done = false;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {  // the wire
    asio::steady_timer t(io);
    while (!done) {
      link.deliver();
      t.expires_after(std::chrono::milliseconds(1));
      co_await t.async_wait(asio::use_awaitable);
    }
  }, asio::detached);
  std::optional<uk::direct::dhcp_lease> lease;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    co_await stack->connect();
    lease = stack->config().lease();
    done = true;
    io.stop();
  }, [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
  io.run_for(std::chrono::seconds(10));
  REQUIRE(lease);
  CHECK(lease->address == ipv4_prefix{pool_ip, 24});
  CHECK(lease->router == server_ip);
  CHECK(stack->ipv4().address() == lease->address);
  stack.reset();
  link.deliver();
  CHECK(server.received.back() == mt::release);
}
