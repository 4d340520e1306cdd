// Issue 9, scale: what one idle established connection costs a layer. Two
// layers (client 10.0.0.1, server 10.0.0.2) talk through in-memory queues
// allocated up front; the heap bytes the server layer takes while it handles
// its segments and calls are attributed to it (support/allocation_counter.hpp,
// whose operator new test_allocations.cpp installs for this executable).
#include <catch2/catch.hpp>

#define UK_ALLOCATION_COUNTER_NO_REPLACEMENTS  // test_allocations.cpp defines them for this executable
#include "support/allocation_counter.hpp"

#include <uk/direct/tcp/layer.hpp>

#include "support/ipv4_queue_wire.hpp"
#include <uk/direct/tcp/tuple_table.hpp>

#include <array>
#include <cstring>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace tcp = uk::direct::tcp;
namespace wire_tcp = uk::wire::tcp;
using uk::ipv4_address;

const ipv4_address client_ip{0x0a000001}, server_ip{0x0a000002};

using datagram_queue = uk::test::datagram_queue;
using ipv4_end = uk::test::queued_ipv4_end;
using virtual_clock = uk::test::settable_clock;

/// Heap bytes taken while `f` runs (a delta, possibly negative).
template <class F>
std::ptrdiff_t heap_delta(F&& f) {
  const auto before = static_cast<std::ptrdiff_t>(uk::test::heap_bytes());
  f();
  return static_cast<std::ptrdiff_t>(uk::test::heap_bytes()) - before;
}

struct two_layers {
  static constexpr std::size_t connections = 1000;

  two_layers()
      : to_server(4 * connections), to_client(4 * connections), client_ip_end{client_ip, &to_server, {}},
        server_ip_end{server_ip, &to_client, {}} {
    tcp::layer_options options;
    options.max_connections = connections + 16;
    options.max_cached_buffers = 4;
    client.emplace(client_ip_end, uk::clock_ref::bind<&virtual_clock::read>(clock),
                   tcp::layer_secrets{{1, 2}, {3, 4}, {5, 6}, 7}, options);
    server_bytes += heap_delta([&] {
      server.emplace(server_ip_end, uk::clock_ref::bind<&virtual_clock::read>(clock),
                     tcp::layer_secrets{{8, 9}, {10, 11}, {12, 13}, 14}, options);
    });
  }

  /// Delivers everything queued, both ways, until the wire is quiet.
  void pump() {
    while (!to_server.pending.empty() || !to_client.pending.empty()) {
      std::swap(to_server.pending, to_server.delivering);
      server_bytes += heap_delta([&] {
        for (auto& d : to_server.delivering)
          server_ip_end.receiver(uk::ipv4_datagram_info{client_ip, server_ip, wire_tcp::ip_protocol, 64, {}},
                                 std::span(d.bytes).first(d.size));
      });
      to_server.delivering.clear();
      std::swap(to_client.pending, to_client.delivering);
      for (auto& d : to_client.delivering)
        client_ip_end.receiver(uk::ipv4_datagram_info{server_ip, client_ip, wire_tcp::ip_protocol, 64, {}},
                               std::span(d.bytes).first(d.size));
      to_client.delivering.clear();
    }
  }

  virtual_clock clock;
  datagram_queue to_server, to_client;
  ipv4_end client_ip_end, server_ip_end;
  std::optional<tcp::layer<ipv4_end>> client, server;
  std::ptrdiff_t server_bytes = 0;
};

/// Opens `two_layers::connections` connections and accepts them all; returns the server-side handles.
std::vector<tcp::connection_handle> open_all(two_layers& w, std::vector<tcp::connection_handle>& clients) {
  std::vector<tcp::connection_handle> accepted;
  accepted.reserve(two_layers::connections);
  clients.reserve(two_layers::connections);
  std::optional<tcp::listener_handle> listener;
  w.server_bytes += heap_delta([&] {
    tcp::listen_options backlog;
    backlog.accept_queue = two_layers::connections;
    backlog.syn_queue = two_layers::connections;
    listener = w.server->listen(80, backlog);
  });
  REQUIRE(listener);
  for (std::size_t i = 0; i < two_layers::connections; ++i) {
    auto c = w.client->connect({server_ip, 80}, w.clock.now);
    REQUIRE(c);
    clients.push_back(*c);
    if (i % 64 == 63) w.pump();
  }
  w.pump();
  w.server_bytes += heap_delta([&] {
    while (auto c = w.server->accept(*listener)) accepted.push_back(*c);
  });
  return accepted;
}

}  // namespace

// The aim is 512 bytes; the connection is 608 bytes today (the SACK
// scoreboard and receiver history, 96 bytes, could move into the send
// buffer's held storage as the out-of-order ranges did). This bound keeps
// what was reached from growing back.
TEST_CASE("Issue 9 scale: an idle established connection costs its layer under 768 bytes, and holds no buffer") {
  two_layers w;
  std::vector<tcp::connection_handle> clients;
  const auto accepted = open_all(w, clients);
  REQUIRE(accepted.size() == two_layers::connections);
  CHECK(w.server->buffers().counters().bytes_lent == 0);
  const double per_connection = static_cast<double>(w.server_bytes) / two_layers::connections;
  INFO("server heap per idle connection: " << per_connection << " bytes (sizeof(connection) = "
                                           << sizeof(tcp::connection) << ")");
  CHECK(per_connection < 768);
}

TEST_CASE("Issue 9 scale: the layer's own share of an idle connection (slot, table, timers) stays under 256 bytes") {
  two_layers w;
  std::vector<tcp::connection_handle> clients;
  const auto accepted = open_all(w, clients);
  REQUIRE(accepted.size() == two_layers::connections);
  const double per_connection = static_cast<double>(w.server_bytes) / two_layers::connections;
  const double beside_connection = per_connection - static_cast<double>(sizeof(tcp::connection));
  INFO("server heap per idle connection: " << per_connection << " bytes, " << beside_connection
                                           << " beside sizeof(connection) = " << sizeof(tcp::connection));
  CHECK(beside_connection < 256);
  CHECK(w.server->buffers().counters().bytes_lent == 0);
  CHECK(w.client->buffers().counters().bytes_lent == 0);
}

TEST_CASE("Issue 9 scale: after every connection exchanged 1 KB both ways and went idle, no buffer is held "
          "and the pool keeps at most its cap") {
  two_layers w;
  std::vector<tcp::connection_handle> clients;
  const auto accepted = open_all(w, clients);
  REQUIRE(accepted.size() == two_layers::connections);
  const std::ptrdiff_t idle_bytes = w.server_bytes;
  std::array<std::byte, 1024> kilobyte{};
  std::array<std::byte, 2048> out{};
  std::size_t moved = 0;
  for (std::size_t i = 0; i < two_layers::connections; ++i) {
    w.client->write(clients[i], kilobyte, w.clock.now);
    w.pump();
    w.server_bytes += heap_delta([&] {
      moved += w.server->read(accepted[i], out, w.clock.now);
      w.server->write(accepted[i], kilobyte, w.clock.now);
    });
    w.pump();
    moved += w.client->read(clients[i], out, w.clock.now);
    // The client's delayed ACK acknowledges the server's kilobyte: its send buffer goes back.
    w.clock.now += 50ms;
    w.client->poll(w.clock.now);
    w.pump();
  }
  // The delayed ACKs go out and everything written is acknowledged.
  w.clock.now += 1s;
  w.server_bytes += heap_delta([&] { w.server->poll(w.clock.now); });
  w.client->poll(w.clock.now);
  w.pump();
  CHECK(moved == 2 * 1024 * two_layers::connections);
  const auto& pool = w.server->buffers();
  CHECK(pool.counters().bytes_lent == 0);
  CHECK(pool.cached() <= pool.max_cached());
  CHECK(pool.counters().bytes_cached <= pool.max_cached() * tcp::connection_config{}.send_buffer);
  // Each connection's buffers came back before the next one's were lent.
  CHECK(pool.counters().allocations <= 2);
  CHECK(pool.counters().reuses >= 2 * two_layers::connections - 2);
  const std::ptrdiff_t after = w.server_bytes - idle_bytes;
  INFO("server heap grew by " << after << " bytes over the exchange");
  // What stays is the pool's cache (bounded) and reusable vectors, not per-connection buffers.
  CHECK(after <= static_cast<std::ptrdiff_t>(pool.counters().bytes_cached + 64 * 1024));
}

TEST_CASE("tuple_table: RFC 9293 3.3.1 demultiplexing by 4-tuple stays exact through random inserts and erases") {
  // A small table (8 entries, 16 places) so runs collide and wrap around the end.
  constexpr std::size_t max_entries = 8;
  tcp::tuple_table table(max_entries);
  CHECK(table.capacity() == 16);
  std::vector<tcp::four_tuple> by_slot(max_entries);
  std::vector<bool> used(max_entries, false);
  auto tuple_of = [&](std::uint32_t slot) -> const tcp::four_tuple& { return by_slot[slot]; };
  std::uint64_t state = 12345;
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<std::uint32_t>(state >> 33);
  };
  auto tuple_for = [](std::uint32_t n) {
    return tcp::four_tuple{{server_ip, 80}, {ipv4_address{0x0a000100 + n % 5}, static_cast<std::uint16_t>(40000 + n)}};
  };
  std::size_t inserted = 0, erased = 0;
  for (int step = 0; step < 20000; ++step) {
    const std::uint32_t slot = next() % max_entries;
    if (!used[slot]) {
      by_slot[slot] = tuple_for(next() % 64);
      bool duplicate = false;
      for (std::uint32_t o = 0; o < max_entries; ++o) duplicate |= used[o] && by_slot[o] == by_slot[slot];
      if (duplicate) continue;
      table.insert(by_slot[slot], slot);
      used[slot] = true;
      ++inserted;
    } else {
      REQUIRE(table.erase(by_slot[slot], tuple_of));
      used[slot] = false;
      ++erased;
    }
    // Every present tuple is found at its slot, and an absent one is not.
    std::size_t present = 0;
    for (std::uint32_t o = 0; o < max_entries; ++o) {
      if (!used[o]) continue;
      ++present;
      const auto found = table.find(by_slot[o], tuple_of);
      REQUIRE(found);
      REQUIRE(*found == o);
    }
    REQUIRE(table.size() == present);
    REQUIRE_FALSE(table.find(tuple_for(1000 + next() % 64), tuple_of));
  }
  CHECK(inserted > 1000);
  CHECK(erased > 1000);
}
