// The direct stack's packet paths do not allocate: once ARP has resolved,
// UDP datagrams (small, and large enough to be fragmented and reassembled)
// and ICMP echoes go through ethernet, arp, ipv4, icmpv4 and udp over
// memory_link with no call to operator new.
//
// This file replaces the global operator new and delete of the
// uk_test_direct executable with counting versions (counting only inside an
// allocation_counter's scope). No other file of this executable may replace them.
#include <catch2/catch.hpp>

#include "support/allocation_counter.hpp"

#include <uk/direct/arp.hpp>
#include <uk/direct/ethernet.hpp>
#include <uk/direct/icmpv4.hpp>
#include <uk/direct/ipv4.hpp>
#include <uk/direct/static_config.hpp>
#include <uk/direct/udp.hpp>
#include <uk/net/memory_link.hpp>
#include <uk/wire/icmpv4.hpp>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

using uk::test::allocation_counter;

namespace {

using namespace uk;
using link_end = net::memory_link::end;

struct host {
  using eth_t = direct::ethernet<link_end>;
  using arp_t = direct::arp<eth_t>;
  using ip_t = direct::ipv4<eth_t, arp_t, direct::static_config>;
  host(link_end& end, clock_ref clock, ipv4_prefix address)
      : config(address), eth(end), arp(eth, clock), ip(eth, arp, config, clock), icmp(ip, clock), udp(ip) {}
  direct::static_config config;
  eth_t eth;
  arp_t arp;
  ip_t ip;
  direct::icmpv4<ip_t> icmp;
  direct::udp<ip_t> udp;
};

const ipv4_address a_ip = *ipv4_address::parse("10.0.0.1");
const ipv4_address b_ip = *ipv4_address::parse("10.0.0.2");

struct echo_server {
  direct::udp<host::ip_t>* udp = nullptr;
  std::size_t echoed = 0;
  void on_datagram(const direct::udp_datagram_info& info, frame payload) {
    auto copy = [&](std::span<std::byte> out) {
      std::memcpy(out.data(), payload.data(), payload.size());
      return payload.size();
    };
    if (udp->transmit(info.destination.port, info.source, payload.size(), frame_filler(copy))) ++echoed;
  }
};

struct counter {
  std::size_t datagrams = 0, bytes = 0;
  void on_datagram(const direct::udp_datagram_info&, frame payload) {
    ++datagrams;
    bytes += payload.size();
  }
};

}  // namespace

TEST_CASE("direct stack: UDP and ICMP paths allocate nothing once ARP has resolved") {
  net::memory_link link;
  host a(link.a(), link.clock(), {a_ip, 24});
  host b(link.b(), link.clock(), {b_ip, 24});
  echo_server server{&b.udp};
  counter client;
  REQUIRE(b.udp.bind(7, direct::udp_handler::bind<&echo_server::on_datagram>(server)));
  REQUIRE(a.udp.bind(5000, direct::udp_handler::bind<&counter::on_datagram>(client)));

  std::vector<std::byte> payload(60000, std::byte{0x42});
  auto send = [&](std::size_t size) {
    auto fill = [&](std::span<std::byte> out) {
      std::memcpy(out.data(), payload.data(), size);
      return size;
    };
    a.udp.transmit(5000, {b_ip, 7}, size, frame_filler(fill));
    link.deliver();
  };
  send(64);  // warm-up: ARP resolves both ways
  REQUIRE(client.datagrams == 1);

  allocation_counter allocations;
  for (int i = 0; i < 1000; ++i) send(64);
  for (int i = 0; i < 100; ++i) send(1472);
  for (int i = 0; i < 20; ++i) send(60000);  // 41 fragments each way, reassembled on both sides
  // ICMP echo requests of 8000 bytes from a to b: b's icmpv4 answers (fragmented).
  for (int i = 0; i < 20; ++i) {
    auto echo = [&](std::span<std::byte> out) {
      const std::size_t n = 8 + 8000;
      std::memset(out.data() + 8, 0x61, 8000);
      wire::icmpv4::emit(wire::icmpv4::repr{wire::icmpv4::echo_request{0x1234, static_cast<std::uint16_t>(i)}},
                         out.first(n));
      return n;
    };
    a.ip.transmit(b_ip, 1, 8 + 8000, frame_filler(echo));
    link.deliver();
  }
  CHECK(allocations.count() == 0);
  CHECK(client.datagrams == 1 + 1000 + 100 + 20);
  CHECK(b.icmp.counters().tx_echo_replies == 20);
  CHECK(a.ip.counters().rx_reassembled >= 20 + 20);
}
