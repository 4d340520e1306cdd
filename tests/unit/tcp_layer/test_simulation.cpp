// A seeded simulation (smoltcp's netsim, mirage-tcpip's lossy links): two
// sans-IO nodes (Ethernet, ARP, IPv4, TCP) on a memory_link whose frames go
// through fault injectors that drop, duplicate, reorder, corrupt and
// truncate. Transfers of random sizes run in both directions at once; each
// must arrive byte-identical, every connection must end CLOSED, and nothing
// may be left in either layer's table. Virtual time: 1 ms per step.
#include <catch2/catch.hpp>

#include <uk/direct/arp.hpp>
#include <uk/direct/ethernet.hpp>
#include <uk/direct/ipv4.hpp>
#include <uk/direct/static_config.hpp>
#include <uk/direct/tcp/layer.hpp>
#include <uk/net/fault_injector.hpp>
#include <uk/net/memory_link.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <deque>
#include <memory>
#include <random>
#include <vector>

#ifndef UK_SIM_COUNT
#define UK_SIM_COUNT 1000
#endif

namespace {

using namespace std::chrono_literals;
using uk::ipv4_address;
namespace tcp = uk::direct::tcp;

using faulty_end = uk::net::fault_injector<uk::net::memory_link::end>;
using ethernet_type = uk::direct::ethernet<faulty_end>;
using arp_type = uk::direct::arp<ethernet_type>;
using ipv4_type = uk::direct::ipv4<ethernet_type, arp_type, uk::direct::static_config>;
using layer_type = tcp::layer<ipv4_type>;

constexpr std::uint16_t service_port = 9000;

/// One host: the direct stack's layers without Asio.
struct node {
  node(uk::net::memory_link::end& end, const uk::net::fault_config& faults, uk::ipv4_prefix address,
       uk::clock_ref clock, tcp::layer_secrets secrets, tcp::layer_options options)
      : faulty(end, faults, clock),
        eth(faulty),
        arp(eth, clock),
        config(address),
        ip(eth, arp, config, clock),
        tcp(ip, clock, secrets, options) {}

  uk::instant poll(uk::instant now) { return std::min({arp.poll(now), ip.poll(now), tcp.poll(now)}); }

  faulty_end faulty;
  ethernet_type eth;
  arp_type arp;
  uk::direct::static_config config;
  ipv4_type ip;
  layer_type tcp;
};

/// Byte `i` of the stream a transfer sends in one direction.
std::byte stream_byte(std::uint32_t transfer, bool upstream, std::uint64_t i) {
  std::uint64_t z = (i / 8 + 1) * 0x9e3779b97f4a7c15ull + transfer * 0xd1b54a32d192ed03ull + (upstream ? 7 : 0);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return static_cast<std::byte>((z ^ (z >> 31)) >> (8 * (i % 8)));
}

struct transfer_plan {
  bool a_is_client;
  std::uint32_t up, down;  // bytes client -> server, server -> client
};

/// One end of a transfer, driven through the layer's application API.
struct endpoint {
  node* host = nullptr;
  tcp::connection_handle handle{};
  std::uint32_t id = 0;
  bool is_client = false;
  bool know_id = false;  // the server learns the transfer from the client's first 4 bytes
  std::uint64_t to_send = 0, sent = 0, to_receive = 0, received = 0;
  std::array<std::byte, 4> id_bytes{};
  bool shut = false, finished = false, failed = false;
};

struct simulation {
  simulation(std::uint64_t seed, const uk::net::fault_profile& faults)
      : link(link_options()),
        a(link.a(), {.seed = seed, .rx = {}, .tx = faults}, {ipv4_address::parse("10.0.0.1").value(), 24}, link.clock(),
          {{seed, 1}, {seed, 2}, {seed, 3}, 11}, options()),
        b(link.b(), {.seed = seed + 1, .rx = {}, .tx = faults}, {ipv4_address::parse("10.0.0.2").value(), 24},
          link.clock(), {{seed, 4}, {seed, 5}, {seed, 6}, 22}, options()),
        random(seed) {}

  static uk::net::memory_link_options link_options() {
    uk::net::memory_link_options o;
    o.latency = 1ms;
    o.transmit_queue_limit = 1024;
    return o;
  }
  static tcp::layer_options options() {
    tcp::layer_options o;
    o.connection.send_buffer = o.connection.receive_buffer = 64 * 1024;
    o.connection.msl = 1s;  // TIME-WAIT: 2 s of virtual time
    return o;
  }

  /// Moves one end's data: writes what fits, reads and checks what came.
  void step(endpoint& e, const std::vector<transfer_plan>& plans) {
    const uk::instant now = link.now();
    const tcp::connection* c = e.host->tcp.find(e.handle);
    if (!c || e.finished) return;
    if (c->last_error() != tcp::error::none) {
      e.failed = true;
      FAIL_CHECK("transfer " << e.id << ": " << to_string(c->last_error()));
      return;
    }
    std::array<std::byte, 4096> buffer;
    // Client: 4 bytes of transfer id, then the stream.
    while (e.sent < e.to_send) {
      std::size_t n = 0;
      if (e.is_client && e.sent < 4) {
        std::array<std::byte, 4> id;
        std::memcpy(id.data(), &e.id, 4);
        n = e.host->tcp.write(e.handle, std::span(id).subspan(e.sent), now);
      } else {
        const std::uint64_t offset = e.is_client ? e.sent - 4 : e.sent;
        const std::size_t chunk = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), e.to_send - e.sent));
        for (std::size_t i = 0; i < chunk; ++i) buffer[i] = stream_byte(e.id, e.is_client, offset + i);
        n = e.host->tcp.write(e.handle, std::span(buffer).first(chunk), now);
      }
      if (n == 0) break;
      e.sent += n;
    }
    if (e.sent == e.to_send && !e.shut && e.know_id) {
      e.host->tcp.shutdown_send(e.handle, now);
      e.shut = true;
    }
    for (;;) {
      const std::size_t n = e.host->tcp.read(e.handle, buffer, now);
      if (n == 0) break;
      std::size_t at = 0;
      if (!e.is_client && !e.know_id) {
        while (at < n && e.received < 4) e.id_bytes[e.received++] = buffer[at++];
        if (e.received == 4) {
          std::memcpy(&e.id, e.id_bytes.data(), 4);
          if (e.id >= plans.size()) {
            e.failed = true;
            FAIL_CHECK("a transfer id out of range: " << e.id);
            return;
          }
          e.know_id = true;
          e.to_receive = 4 + plans[e.id].up;
          e.to_send = plans[e.id].down;
        }
      }
      for (; at < n; ++at, ++e.received) {
        const std::uint64_t offset = e.is_client ? e.received : e.received - 4;
        if (e.received >= e.to_receive || buffer[at] != stream_byte(e.id, !e.is_client, offset)) {
          e.failed = true;
          FAIL_CHECK("transfer " << e.id << ": byte " << offset << " differs or is extra");
          return;
        }
      }
    }
    c = e.host->tcp.find(e.handle);
    if (c->read_finished() && e.know_id) {
      if (e.received != e.to_receive) {
        e.failed = true;
        FAIL_CHECK("transfer " << e.id << ": " << e.received << " bytes of " << e.to_receive);
        return;
      }
      if (e.shut) {
        e.host->tcp.close(e.handle, now);
        e.host->tcp.release(e.handle, now);
        e.finished = true;
      }
    }
  }

  uk::net::memory_link link;
  node a, b;
  std::mt19937_64 random;
};

/// Runs `count` transfers of up to `max_size` bytes each way, `parallel` at a time.
void run_transfers(std::uint64_t seed, const uk::net::fault_profile& faults, std::uint32_t count,
                   std::uint32_t max_size, std::size_t parallel) {
  simulation sim(seed, faults);
  std::vector<transfer_plan> plans;
  std::uniform_int_distribution<std::uint32_t> size(0, max_size);
  for (std::uint32_t i = 0; i < count; ++i) plans.push_back({(sim.random() & 1) != 0, size(sim.random), size(sim.random)});
  auto listen_a = sim.a.tcp.listen(service_port);
  auto listen_b = sim.b.tcp.listen(service_port);
  REQUIRE(listen_a);
  REQUIRE(listen_b);

  std::deque<endpoint> active;  // stable addresses
  std::uint32_t next = 0, finished_clients = 0, finished_servers = 0;
  const uk::instant limit = sim.link.now() + std::chrono::hours(2);
  while ((finished_clients < count || finished_servers < count) && sim.link.now() < limit) {
    const uk::instant now = sim.link.now();
    // Open new transfers while fewer than `parallel` clients run.
    std::size_t running = 0;
    for (auto& e : active) running += e.is_client && !e.finished;
    while (running < parallel && next < count) {
      const transfer_plan& p = plans[next];
      node& client = p.a_is_client ? sim.a : sim.b;
      node& server = p.a_is_client ? sim.b : sim.a;
      auto h = client.tcp.connect({server.ip.address()->address, service_port}, now);
      REQUIRE(h);
      endpoint e;
      e.host = &client;
      e.handle = *h;
      e.id = next;
      e.is_client = true;
      e.know_id = true;
      e.to_send = 4 + std::uint64_t{p.up};
      e.to_receive = p.down;
      active.push_back(e);
      ++next;
      ++running;
    }
    // Servers accept.
    for (auto [host, l] : {std::pair{&sim.a, *listen_a}, std::pair{&sim.b, *listen_b}}) {
      while (auto h = host->tcp.accept(l)) {
        endpoint e;
        e.host = host;
        e.handle = *h;
        e.to_receive = 4;
        active.push_back(e);
      }
    }
    for (auto& e : active) {
      const bool was = e.finished;
      sim.step(e, plans);
      if (e.failed) FAIL("transfer " << e.id << " failed");
      if (!was && e.finished) ++(e.is_client ? finished_clients : finished_servers);
    }
    while (!active.empty() && active.front().finished) active.pop_front();
    sim.a.poll(sim.link.now());
    sim.b.poll(sim.link.now());
    sim.link.advance(1ms);
  }
  INFO("virtual time " << std::chrono::duration_cast<std::chrono::seconds>(sim.link.now().time_since_epoch()).count()
       << " s, " << next << " started, " << finished_clients << " clients and " << finished_servers
       << " servers finished");
  REQUIRE(finished_clients == count);
  REQUIRE(finished_servers == count);
  // Everything closes: TIME-WAIT (2 s here) runs out, then both tables are empty (mirage-tcpip #489).
  const uk::instant drain_until = sim.link.now() + 60s;
  while ((sim.a.tcp.connection_count() > 0 || sim.b.tcp.connection_count() > 0) && sim.link.now() < drain_until) {
    sim.a.poll(sim.link.now());
    sim.b.poll(sim.link.now());
    sim.link.advance(1ms);
  }
  CHECK(sim.a.tcp.connection_count() == 0);
  CHECK(sim.b.tcp.connection_count() == 0);
  CHECK(sim.a.tcp.next_deadline() == uk::never);
  CHECK(sim.b.tcp.next_deadline() == uk::never);
  CHECK(sim.a.tcp.counters().connections_opened == sim.a.tcp.counters().connections_freed);
  CHECK(sim.b.tcp.counters().connections_opened == sim.b.tcp.counters().connections_freed);
  CHECK(sim.a.tcp.counters().connections_opened + sim.b.tcp.counters().connections_opened == 2 * count);
  // The faults happened.
  const auto& fa = sim.a.faulty.tx_faults();
  if (faults.drop > 0) CHECK(fa.dropped > 0);
  if (faults.corrupt > 0) CHECK(sim.a.ip.counters().rx_dropped_bad_checksum + sim.b.tcp.counters().rx_bad_checksum +
                                    sim.a.tcp.counters().rx_bad_checksum + sim.b.ip.counters().rx_dropped_bad_checksum > 0);
  UNSCOPED_INFO("virtual time: " << std::chrono::duration_cast<std::chrono::seconds>(sim.link.now().time_since_epoch()).count()
                                 << " s; A sent " << sim.a.tcp.counters().tx_segments << " segments, B "
                                 << sim.b.tcp.counters().tx_segments);
}

}  // namespace

TEST_CASE("Simulation: 1000 transfers of random sizes in both directions over a clean link end byte-identical and closed") {
  run_transfers(1, {}, UK_SIM_COUNT, 40000, 50);
}

TEST_CASE("Simulation: 1000 transfers over a link that drops, duplicates, reorders, corrupts and truncates") {
  uk::net::fault_profile faults;
  faults.drop = 0.02;
  faults.duplicate = 0.01;
  faults.reorder = 0.02;
  faults.corrupt = 0.01;
  faults.truncate = 0.005;
  run_transfers(42, faults, UK_SIM_COUNT, 40000, 50);
}
