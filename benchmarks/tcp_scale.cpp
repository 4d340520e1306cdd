// Issue 9, scale: 10,000 concurrent established TCP connections in one
// process. Two tcp::layers (client 10.0.0.1, server 10.0.0.2) over IPv4
// doubles joined by in-memory queues; every connection is opened, accepted and
// left idle. The heap bytes the server layer takes (an allocation-counting
// operator new in this file, attributed to the server while it runs) give
//   bytes_per_idle_connection        server heap / connections, all idle
//   bytes_per_connection_after_1k    the same after each connection moved 1 KB
//                                    each way and went idle (buffers returned)
//   bytes_per_flow                   the direct stack's Asio flow state per
//                                    connection (service.hpp/flow.hpp), apart
//   connections_per_s                opening and accepting the 10,000
// and sizeof() of the pieces of a connection.
#include <benchmark/benchmark.h>

#include <malloc.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <new>
#include <optional>
#include <vector>

#include <boost/asio/io_context.hpp>

#include <uk/direct/tcp/flow.hpp>
#include <uk/direct/tcp/layer.hpp>

#include "support/ipv4_queue_wire.hpp"

namespace {

std::size_t live_bytes = 0;  // single-threaded benchmark

void* counted_new(std::size_t size) {
  void* p = std::malloc(size == 0 ? 1 : size);
  if (!p) throw std::bad_alloc();
  live_bytes += malloc_usable_size(p);
  return p;
}
void counted_delete(void* p) noexcept {
  if (p) live_bytes -= malloc_usable_size(p);
  std::free(p);
}

}  // namespace

void* operator new(std::size_t size) { return counted_new(size); }
void* operator new[](std::size_t size) { return counted_new(size); }
void operator delete(void* p) noexcept { counted_delete(p); }
void operator delete[](void* p) noexcept { counted_delete(p); }
void operator delete(void* p, std::size_t) noexcept { counted_delete(p); }
void operator delete[](void* p, std::size_t) noexcept { counted_delete(p); }

namespace {

using namespace std::chrono_literals;
namespace tcp = uk::direct::tcp;
namespace wire_tcp = uk::wire::tcp;
using uk::ipv4_address;

constexpr std::size_t connections = 10'000;
const ipv4_address client_ip{0x0a000001}, server_ip{0x0a000002};

using datagram_queue = uk::test::datagram_queue;
using ipv4_end = uk::test::queued_ipv4_end;
using virtual_clock = uk::test::settable_clock;

using server_layer = tcp::layer<ipv4_end>;

/// Two layers on one wire; server_bytes is the heap the server side took.
struct world {
  world() : to_server(8192), to_client(8192), client_end{client_ip, &to_server, {}}, server_end{server_ip, &to_client, {}} {
    tcp::layer_options options;
    options.max_connections = connections + 64;
    client.emplace(client_end, uk::clock_ref::bind<&virtual_clock::read>(clock),
                   tcp::layer_secrets{{1, 2}, {3, 4}, {5, 6}, 7}, options);
    as_server([&] {
      server.emplace(server_end, uk::clock_ref::bind<&virtual_clock::read>(clock),
                     tcp::layer_secrets{{8, 9}, {10, 11}, {12, 13}, 14}, options);
    });
  }
  template <class F>
  void as_server(F&& f) {
    const auto before = static_cast<std::ptrdiff_t>(live_bytes);
    f();
    server_bytes += static_cast<std::ptrdiff_t>(live_bytes) - before;
  }
  void pump() {
    while (!to_server.pending.empty() || !to_client.pending.empty()) {
      std::swap(to_server.pending, to_server.delivering);
      as_server([&] {
        for (auto& d : to_server.delivering)
          server_end.receiver(uk::ipv4_datagram_info{client_ip, server_ip, wire_tcp::ip_protocol, 64, {}},
                              std::span(d.bytes).first(d.size));
      });
      to_server.delivering.clear();
      std::swap(to_client.pending, to_client.delivering);
      for (auto& d : to_client.delivering)
        client_end.receiver(uk::ipv4_datagram_info{server_ip, client_ip, wire_tcp::ip_protocol, 64, {}},
                            std::span(d.bytes).first(d.size));
      to_client.delivering.clear();
    }
  }

  virtual_clock clock;
  datagram_queue to_server, to_client;
  ipv4_end client_end, server_end;
  std::optional<tcp::layer<ipv4_end>> client;
  std::optional<server_layer> server;
  std::ptrdiff_t server_bytes = 0;
};

void BM_tcp_10000_idle_connections(benchmark::State& state) {
  for (auto _ : state) {
    state.PauseTiming();
    auto w = std::make_unique<world>();
    std::vector<tcp::connection_handle> clients, accepted;
    clients.reserve(connections);
    accepted.reserve(connections);
    std::optional<tcp::listener_handle> listener;
    w->as_server([&] { listener = w->server->listen(80, {connections, connections, true}); });
    state.ResumeTiming();

    const auto start = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < connections; ++i) {
      auto c = w->client->connect({server_ip, 80}, w->clock.now);
      if (!c) {
        state.SkipWithError("connect failed");
        return;
      }
      clients.push_back(*c);
      if (i % 256 == 255) w->pump();
    }
    w->pump();
    w->as_server([&] {
      while (auto c = w->server->accept(*listener)) accepted.push_back(*c);
    });
    const double open_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (accepted.size() != connections) {
      state.SkipWithError("not every connection was accepted");
      return;
    }
    state.PauseTiming();
    const double idle = static_cast<double>(w->server_bytes) / connections;

    // 1 KB each way on every connection, then idle again.
    std::array<std::byte, 1024> kilobyte{};
    std::array<std::byte, 2048> out{};
    std::size_t moved = 0;
    for (std::size_t i = 0; i < connections; ++i) {
      w->client->write(clients[i], kilobyte, w->clock.now);
      w->pump();
      w->as_server([&] {
        moved += w->server->read(accepted[i], out, w->clock.now);
        w->server->write(accepted[i], kilobyte, w->clock.now);
      });
      w->pump();
      moved += w->client->read(clients[i], out, w->clock.now);
      w->clock.now += 50ms;  // the client's delayed ACK
      w->client->poll(w->clock.now);
      w->pump();
    }
    w->clock.now += 1s;
    w->as_server([&] { w->server->poll(w->clock.now); });
    w->client->poll(w->clock.now);
    w->pump();
    const double after = static_cast<double>(w->server_bytes) / connections;

    // The direct stack's per-connection Asio state (flow.hpp), kept apart.
    boost::asio::io_context io;
    tcp::service_context<server_layer> context{*w->server, uk::clock_ref::bind<&virtual_clock::read>(w->clock),
                                               io.get_executor(), {}};
    std::vector<std::unique_ptr<tcp::detail::flow_state<server_layer>>> flows;
    flows.reserve(connections);
    const std::size_t before_flows = live_bytes;
    for (auto h : accepted) flows.push_back(std::make_unique<tcp::detail::flow_state<server_layer>>(context, h));
    const double per_flow = static_cast<double>(live_bytes - before_flows) / connections;

    state.counters["bytes_per_idle_connection"] = idle;
    state.counters["bytes_per_connection_after_1k"] = after;
    state.counters["bytes_per_flow"] = per_flow;
    state.counters["connections_per_s"] = connections / open_seconds;
    state.counters["moved_bytes"] = static_cast<double>(moved);
    state.counters["pool_bytes_lent"] = static_cast<double>(w->server->buffers().counters().bytes_lent);
    state.counters["pool_bytes_cached"] = static_cast<double>(w->server->buffers().counters().bytes_cached);
    state.counters["sizeof_connection"] = sizeof(tcp::connection);
    state.counters["sizeof_connection_config"] = sizeof(tcp::connection_config);
    state.counters["sizeof_connection_counters"] = sizeof(tcp::connection_counters);
    state.counters["sizeof_connection_environment"] = sizeof(tcp::connection_environment);
    state.counters["sizeof_send_buffer"] = sizeof(tcp::send_buffer);
    state.counters["sizeof_receive_buffer"] = sizeof(tcp::receive_buffer);
    state.counters["sizeof_flow_state"] = sizeof(tcp::detail::flow_state<server_layer>);
    flows.clear();
    w.reset();
    state.ResumeTiming();
  }
}
BENCHMARK(BM_tcp_10000_idle_connections)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
