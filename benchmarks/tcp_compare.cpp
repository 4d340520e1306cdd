// uk's direct stack against lwIP 2.1.3, side by side in one process (issue 9):
// two hosts of each stack on an in-memory link (uk: uk::net::memory_link;
// lwIP: lwip_wire, the same bounded queues handing over pool pbufs), driven
// from one thread on virtual time, through Ethernet, ARP (static entries),
// IPv4 and TCP/UDP, with every checksum computed on send and verified on
// receive. Each frame is copied once on its way, for both stacks.
//
//   uk_tcp_bulk   / lwip_tcp_bulk    one connection, bytes one way (bytes_per_second)
//   uk_tcp_rr     / lwip_tcp_rr      64-byte request, 64-byte response (items_per_second)
//   uk_udp_64     / lwip_udp_64      a 64-byte datagram one way (time per iteration = ns/packet)
//
// The bytes a bulk receiver gets are compared with the stream the sender
// wrote (memcmp against the generating pattern), so a stack cannot win by
// losing or corrupting data. Each stack gets the largest buffers it supports
// sensibly: uk 1 MiB send and receive buffers; lwIP TCP_WND = TCP_SND_BUF =
// 1 MiB with window scaling (benchmarks/lwip/lwipopts.h).
//
// lwIP is built from Debian's source package when it could be fetched
// (benchmarks/CMakeLists.txt); without it only the uk half runs.
//
// For instruction counts (benchmarks/run.sh runs this under callgrind):
//   bench_tcp_compare --callgrind-run=<uk|lwip>-<bulk|rr> [--callgrind-amount=N]
// sets up and warms a connection, then moves N bytes (bulk) or N transactions
// (rr) inside uk_bench_measured(), the one function callgrind collects
// (--toggle-collect=uk_bench_measured), and prints "bytes N" or "transactions N".
#include <benchmark/benchmark.h>

#include <uk/direct/arp.hpp>
#include <uk/direct/ethernet.hpp>
#include <uk/direct/ipv4.hpp>
#include <uk/direct/static_config.hpp>
#include <uk/direct/tcp/layer.hpp>
#include <uk/direct/udp.hpp>
#include <uk/net/memory_link.hpp>

#ifdef UK_BENCH_HAVE_LWIP
#include "uk_lwip.h"
#endif

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

/// The region callgrind measures (--toggle-collect=uk_bench_measured).
extern "C" [[gnu::noinline]] void uk_bench_measured(void (*run)(void*), void* context) {
  run(context);
  asm volatile("" ::: "memory");
}

namespace {

using namespace uk;
using namespace std::chrono_literals;
namespace tcp = uk::direct::tcp;

const ipv4_address a_ip = *ipv4_address::parse("10.0.0.1");
const ipv4_address b_ip = *ipv4_address::parse("10.0.0.2");
constexpr std::uint16_t tcp_port = 5001;
constexpr std::uint16_t udp_port = 7;
constexpr std::size_t stack_buffer = 1024 * 1024;      // each stack's send and receive buffer
constexpr std::size_t bulk_per_iteration = 1024 * 1024; // bytes one bulk iteration moves
constexpr std::size_t message_size = 64;                 // RR request and response, UDP payload

/// Frames each end of a link may queue. Bulk needs a full 1 MiB window in
/// flight (about 720 segments) with room for the ACKs. memory_link keeps
/// frames in its ring's slots and walks through them, so a ring larger than
/// the traffic needs would make each small frame of the RR and UDP runs land
/// in a cold slot: those run on a second pair of uk hosts with memory_link's
/// default queue. (lwip_wire queues pointers to pool pbufs, reused hot.)
constexpr std::size_t bulk_queue = 1024;
constexpr std::size_t small_queue = 128;

net::memory_link_options link_options(std::size_t queue) {
  net::memory_link_options o;
  o.transmit_queue_limit = queue;
  return o;
}

/// The byte stream a bulk sender writes: a pattern of odd period, so that
/// segment boundaries fall everywhere in it; any offset has 64 KiB after it.
class stream_pattern {
 public:
  static constexpr std::size_t period = 65521;
  static constexpr std::size_t max_span = 64 * 1024;
  stream_pattern() : bytes_(period + max_span) {
    std::uint32_t x = 0x12345678;
    for (std::size_t i = 0; i < period; ++i) {
      x = x * 1664525u + 1013904223u;
      bytes_[i] = static_cast<std::byte>(x >> 24);
    }
    // Byte by byte: the tail repeats the start (the ranges overlap, so no copy_n).
    for (std::size_t i = period; i < bytes_.size(); ++i) bytes_[i] = bytes_[i - period];
  }
  /// `length` (at most max_span) bytes of the stream from `offset`.
  std::span<const std::byte> at(std::uint64_t offset, std::size_t length) const {
    return std::span(bytes_).subspan(static_cast<std::size_t>(offset % period), std::min(length, max_span));
  }

 private:
  std::vector<std::byte> bytes_;
};

const stream_pattern& pattern() {
  static const stream_pattern p;
  return p;
}

/// What a bulk receiver checks: every byte in order, against the pattern.
struct stream_check {
  std::uint64_t received = 0;
  bool corrupt = false;
  void consume(std::span<const std::byte> data) {
    while (!data.empty()) {
      const auto expected = pattern().at(received, data.size());
      if (std::memcmp(data.data(), expected.data(), expected.size()) != 0) corrupt = true;
      received += expected.size();
      data = data.subspan(expected.size());
    }
  }
};

// ============================================================================
// uk: two direct stacks on a memory_link
// ============================================================================

using link_end = net::memory_link::end;

struct uk_host {
  using eth_t = direct::ethernet<link_end>;
  using arp_t = direct::arp<eth_t>;
  using ip_t = direct::ipv4<eth_t, arp_t, direct::static_config>;

  static tcp::layer_options options() {
    tcp::layer_options o;
    o.max_connections = 16;
    o.connection.send_buffer = stack_buffer;
    o.connection.receive_buffer = stack_buffer;
    o.connection.nodelay = true;  // RR: each 64-byte message goes at once
    return o;
  }

  uk_host(link_end& end, clock_ref clock, ipv4_address address, tcp::layer_secrets secrets)
      : eth(end), arp(eth, clock), config({address, 24}), ip(eth, arp, config, clock), udp(ip),
        tcp(ip, clock, secrets, options()) {}

  instant poll(instant now) { return std::min({arp.poll(now), ip.poll(now), tcp.poll(now)}); }

  eth_t eth;
  arp_t arp;
  direct::static_config config;
  ip_t ip;
  direct::udp<ip_t> udp;
  tcp::layer<ip_t> tcp;
};

/// Two uk hosts and one established connection a -> b, made once per process.
struct uk_world {
  explicit uk_world(std::size_t queue) : link(link_options(queue)) { start(); }

  net::memory_link link;
  uk_host a{link.a(), link.clock(), a_ip, {{1, 2}, {3, 4}, {5, 6}, 1000}};
  uk_host b{link.b(), link.clock(), b_ip, {{7, 8}, {9, 10}, {11, 12}, 2000}};
  tcp::connection_handle client{}, server{};
  bool ready = false;
  std::uint64_t sent = 0;     // bulk bytes written on `client`
  stream_check check;         // bulk bytes read on `server`
  std::uint64_t timer_waits = 0;
  std::uint64_t datagrams = 0;
  std::vector<std::byte> read_buffer = std::vector<std::byte>(64 * 1024);

  void start() {
    a.arp.add_static(b_ip, link.b().mac());
    b.arp.add_static(a_ip, link.a().mac());
    b.udp.bind(udp_port, direct::udp_handler::bind<&uk_world::on_datagram>(*this));
    auto listener = b.tcp.listen(tcp_port);
    if (!listener) return;
    auto c = a.tcp.connect({b_ip, tcp_port}, link.now());
    if (!c) return;
    client = *c;
    for (int i = 0; i < 100 && !ready; ++i) {
      link.deliver();
      if (auto s = b.tcp.accept(*listener)) {
        server = *s;
        ready = true;
      } else {
        wait_for_timer();
      }
    }
    link.deliver();
  }

  void on_datagram(const direct::udp_datagram_info&, frame payload) { datagrams += payload.size() == message_size; }

  /// Nothing moved: let virtual time run to the next deadline (a delayed ACK, say).
  void wait_for_timer() {
    ++timer_waits;
    const instant next = std::min(a.poll(link.now()), b.poll(link.now()));
    link.advance_to(next == never ? link.now() + 1ms : next);
    a.poll(link.now());
    b.poll(link.now());
    link.deliver();
  }

  /// Moves `bytes` more of the stream from client to server, all read and checked.
  bool bulk(std::uint64_t bytes) {
    const std::uint64_t target = check.received + bytes;
    const std::uint64_t send_target = sent + bytes;
    while (check.received < target) {
      bool moved = false;
      while (sent < send_target) {
        const auto piece = pattern().at(sent, static_cast<std::size_t>(std::min<std::uint64_t>(send_target - sent, stream_pattern::max_span)));
        const std::size_t n = a.tcp.write(client, piece, link.now());
        if (n == 0) break;
        sent += n;
        moved = true;
      }
      link.deliver();
      for (;;) {
        const std::size_t n = b.tcp.read(server, read_buffer, link.now());
        if (n == 0) break;
        check.consume(std::span(read_buffer).first(n));
        moved = true;
      }
      link.deliver();  // the window updates the reads caused
      if (!moved) wait_for_timer();
      if (check.corrupt || timer_waits > 1'000'000) return false;
    }
    return true;
  }

  /// One 64-byte request from client to server and a 64-byte response back.
  bool transaction() {
    std::array<std::byte, message_size> message{};
    if (a.tcp.write(client, message, link.now()) != message.size()) return false;
    link.deliver();
    if (b.tcp.read(server, message, link.now()) != message.size()) return false;
    if (b.tcp.write(server, message, link.now()) != message.size()) return false;
    link.deliver();
    return a.tcp.read(client, message, link.now()) == message.size();
  }

  void udp_datagram() {
    auto fill = [](std::span<std::byte> out) {
      std::memset(out.data(), 0x5a, message_size);
      return message_size;
    };
    a.udp.transmit(5000, {b_ip, udp_port}, message_size, frame_filler(fill));
    link.deliver();
  }
};

/// The hosts for bulk transfer, and those for RR and UDP (see bulk_queue).
uk_world& uk_bulk_stacks() {
  static uk_world world(bulk_queue);
  return world;
}
uk_world& uk_small_stacks() {
  static uk_world world(small_queue);
  return world;
}

// ============================================================================
// lwIP: two copies of lwIP 2.1.3 behind their entry tables, on a memory_link
// ============================================================================

#ifdef UK_BENCH_HAVE_LWIP

/// The wire between the two lwIP copies, as memory_link is uk's: a bounded
/// queue of frames each way, delivered in send order until both are empty.
/// A frame is written once, by the sender's link output, straight into a
/// receive pbuf of the peer (what a driver's DMA does); uk's hosts parse
/// frames in place in memory_link's slots, also after one copy.
class lwip_wire {
 public:
  struct end;
  struct queued {
    void* buffer;
    std::uint64_t sequence;
  };
  struct end {
    const uk_lwip_stack* stack = nullptr;
    end* peer = nullptr;
    lwip_wire* wire = nullptr;
    std::vector<queued> ring = std::vector<queued>(bulk_queue);
    std::size_t head = 0, size = 0;
    std::uint64_t refused = 0;
  };

  lwip_wire(const uk_lwip_stack& a, const uk_lwip_stack& b) {
    a_.stack = &a;
    b_.stack = &b;
    a_.peer = &b_;
    b_.peer = &a_;
    a_.wire = b_.wire = this;
  }
  lwip_wire(const lwip_wire&) = delete;
  lwip_wire& operator=(const lwip_wire&) = delete;
  ~lwip_wire() {
    for (end* e : {&a_, &b_})
      for (; e->size > 0; --e->size, e->head = (e->head + 1) % e->ring.size()) e->peer->stack->rx_free(e->ring[e->head].buffer);
  }

  end& a() { return a_; }
  end& b() { return b_; }

  /// uk_lwip_transmit_fn; `context` is the sending end.
  static void* transmit(void* context, std::size_t length) {
    end& from = *static_cast<end*>(context);
    if (from.size == from.ring.size()) {
      ++from.refused;
      return nullptr;
    }
    void* payload = nullptr;
    void* buffer = from.peer->stack->rx_alloc(length, &payload);
    if (!buffer) {
      ++from.refused;
      return nullptr;
    }
    from.ring[(from.head + from.size) % from.ring.size()] = {buffer, from.wire->next_sequence_++};
    ++from.size;
    return payload;
  }

  /// Hands every queued frame to its receiver, oldest first, including those sent meanwhile.
  void deliver() {
    for (;;) {
      end* from = nullptr;
      for (end* e : {&a_, &b_})
        if (e->size > 0 && (!from || e->ring[e->head].sequence < from->ring[from->head].sequence)) from = e;
      if (!from) return;
      void* buffer = from->ring[from->head].buffer;
      from->head = (from->head + 1) % from->ring.size();
      --from->size;
      from->peer->stack->rx_input(buffer);
    }
  }

 private:
  end a_, b_;
  std::uint64_t next_sequence_ = 0;
};

/// What one lwIP host does with the bytes it receives.
struct lwip_receiver {
  stream_check check;  // bulk bytes
  std::uint64_t message_bytes = 0;
  bool bulk_mode = false;
  std::uint64_t datagrams = 0;

  static void on_tcp_data(void* context, const void* data, std::size_t length) {
    auto& self = *static_cast<lwip_receiver*>(context);
    if (self.bulk_mode)
      self.check.consume({static_cast<const std::byte*>(data), length});
    else
      self.message_bytes += length;
  }
  static void on_datagram(void* context, const void*, std::size_t length) {
    static_cast<lwip_receiver*>(context)->datagrams += length == message_size;
  }
};

struct lwip_host {
  const uk_lwip_stack& stack;
  lwip_receiver receiver;
};

std::array<std::uint8_t, 4> bytes_of(ipv4_address a) { return a.octets(); }

/// Two lwIP hosts and one established connection a -> b, made once per process.
struct lwip_world {
  lwip_wire wire{uk_lwip_a, uk_lwip_b};
  lwip_host a{uk_lwip_a, {}};
  lwip_host b{uk_lwip_b, {}};
  bool ready = false;
  std::uint64_t sent = 0;
  std::uint64_t timer_waits = 0;
  std::uint32_t now_ms = 0;

  lwip_world() {
    const net::memory_link_options macs;
    const auto aip = bytes_of(a_ip), bip = bytes_of(b_ip);
    const auto amac = macs.mac_a.octets, bmac = macs.mac_b.octets;
    if (!a.stack.create(aip.data(), amac.data(), &lwip_wire::transmit, &wire.a())) return;
    if (!b.stack.create(bip.data(), bmac.data(), &lwip_wire::transmit, &wire.b())) return;
    a.stack.add_neighbour(bip.data(), bmac.data());
    b.stack.add_neighbour(aip.data(), amac.data());
    b.stack.udp_bind(udp_port, &lwip_receiver::on_datagram, &b.receiver);
    if (!b.stack.tcp_listen(tcp_port, &lwip_receiver::on_tcp_data, &b.receiver)) return;
    if (!a.stack.tcp_connect(bip.data(), tcp_port, &lwip_receiver::on_tcp_data, &a.receiver)) return;
    for (int i = 0; i < 100 && !established(); ++i) {
      wire.deliver();
      if (!established()) wait_for_timer();
    }
    ready = established();
  }

  bool established() const { return a.stack.tcp_established() && b.stack.tcp_established(); }

  /// Nothing moved: lwIP's TCP timers (delayed ACKs among them) tick every 250 ms.
  void wait_for_timer() {
    ++timer_waits;
    now_ms += 250;
    a.stack.set_time_ms(now_ms);
    b.stack.set_time_ms(now_ms);
    a.stack.check_timeouts();
    b.stack.check_timeouts();
    wire.deliver();
  }

  bool bulk(std::uint64_t bytes) {
    stream_check& check = b.receiver.check;
    b.receiver.bulk_mode = true;
    const std::uint64_t target = check.received + bytes;
    const std::uint64_t send_target = sent + bytes;
    while (check.received < target) {
      bool moved = false;
      const std::uint64_t before = check.received;
      while (sent < send_target) {
        const auto piece = pattern().at(sent, static_cast<std::size_t>(std::min<std::uint64_t>(send_target - sent, stream_pattern::max_span)));
        const std::size_t n = a.stack.tcp_send(piece.data(), piece.size());
        if (n == 0) break;
        sent += n;
        moved = true;
      }
      a.stack.tcp_flush();
      wire.deliver();  // the receiver reads (and checks) as segments arrive
      if (check.received != before) moved = true;
      if (!moved) wait_for_timer();
      if (check.corrupt || timer_waits > 1'000'000) return false;
    }
    b.receiver.bulk_mode = false;
    return true;
  }

  bool transaction() {
    std::array<std::byte, message_size> message{};
    const std::uint64_t at_b = b.receiver.message_bytes, at_a = a.receiver.message_bytes;
    if (a.stack.tcp_send(message.data(), message.size()) != message.size()) return false;
    a.stack.tcp_flush();
    wire.deliver();
    if (b.receiver.message_bytes != at_b + message_size) return false;
    if (b.stack.tcp_send(message.data(), message.size()) != message.size()) return false;
    b.stack.tcp_flush();
    wire.deliver();
    return a.receiver.message_bytes == at_a + message_size;
  }

  void udp_datagram() {
    std::array<std::byte, message_size> message{};
    std::memset(message.data(), 0x5a, message.size());
    const auto bip = bytes_of(b_ip);
    a.stack.udp_send(5000, bip.data(), udp_port, message.data(), message.size());
    wire.deliver();
  }
};

lwip_world& lwip_stacks() {
  static lwip_world world;
  return world;
}

#endif

// ============================================================================
// The benchmarks: the same three for each stack
// ============================================================================

template <class World>
void run_bulk(benchmark::State& state, World& world) {
  if (!world.ready) return state.SkipWithError("no connection");
  const std::uint64_t waits = world.timer_waits;
  for (auto _ : state)
    if (!world.bulk(bulk_per_iteration)) return state.SkipWithError("bulk transfer failed or data differed");
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bulk_per_iteration));
  state.counters["timer_waits"] = static_cast<double>(world.timer_waits - waits);
}

template <class World>
void run_rr(benchmark::State& state, World& world) {
  if (!world.ready) return state.SkipWithError("no connection");
  for (auto _ : state)
    if (!world.transaction()) return state.SkipWithError("a transaction failed");
  state.SetItemsProcessed(state.iterations());
}

template <class World>
void run_udp(benchmark::State& state, World& world, const std::uint64_t& datagrams) {
  const std::uint64_t before = datagrams;
  for (auto _ : state) world.udp_datagram();
  if (datagrams - before != static_cast<std::uint64_t>(state.iterations())) state.SkipWithError("datagrams lost");
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(message_size));
}

void uk_tcp_bulk(benchmark::State& state) { run_bulk(state, uk_bulk_stacks()); }
void uk_tcp_rr(benchmark::State& state) { run_rr(state, uk_small_stacks()); }
void uk_udp_64(benchmark::State& state) { run_udp(state, uk_small_stacks(), uk_small_stacks().datagrams); }
BENCHMARK(uk_tcp_bulk);
BENCHMARK(uk_tcp_rr);
BENCHMARK(uk_udp_64);

#ifdef UK_BENCH_HAVE_LWIP
void lwip_tcp_bulk(benchmark::State& state) { run_bulk(state, lwip_stacks()); }
void lwip_tcp_rr(benchmark::State& state) { run_rr(state, lwip_stacks()); }
void lwip_udp_64(benchmark::State& state) { run_udp(state, lwip_stacks(), lwip_stacks().b.receiver.datagrams); }
BENCHMARK(lwip_tcp_bulk);
BENCHMARK(lwip_tcp_rr);
BENCHMARK(lwip_udp_64);
#endif

// ============================================================================
// --callgrind-run: a fixed amount of work inside uk_bench_measured()
// ============================================================================

template <class World>
struct measured_work {
  World* world;
  bool bulk;
  std::uint64_t amount;
  bool ok = true;
  static void run(void* context) {
    auto& w = *static_cast<measured_work*>(context);
    if (w.bulk) {
      w.ok = w.world->bulk(w.amount);
    } else {
      for (std::uint64_t i = 0; i < w.amount && w.ok; ++i) w.ok = w.world->transaction();
    }
  }
};

template <class World>
int callgrind_run(World& world, bool bulk, std::uint64_t amount) {
  if (!world.ready) {
    std::fprintf(stderr, "no connection\n");
    return 1;
  }
  // Warm up: caches, the congestion window and every buffer at its working size.
  bool ok = bulk ? world.bulk(4 * bulk_per_iteration) : true;
  for (int i = 0; i < 1000 && ok && !bulk; ++i) ok = world.transaction();
  measured_work<World> work{&world, bulk, amount};
  if (ok) uk_bench_measured(&measured_work<World>::run, &work);
  if (!ok || !work.ok) {
    std::fprintf(stderr, "the transfer failed\n");
    return 1;
  }
  std::printf("%s %llu\n", bulk ? "bytes" : "transactions", static_cast<unsigned long long>(amount));
  return 0;
}

int callgrind_main(std::string_view which, std::uint64_t amount) {
  const bool bulk = which.ends_with("-bulk");
  if (!bulk && !which.ends_with("-rr")) {
    std::fprintf(stderr, "--callgrind-run takes uk-bulk, uk-rr, lwip-bulk or lwip-rr\n");
    return 2;
  }
  if (amount == 0) amount = bulk ? 16 * bulk_per_iteration : 20000;
  if (which.starts_with("uk-")) return callgrind_run(bulk ? uk_bulk_stacks() : uk_small_stacks(), bulk, amount);
#ifdef UK_BENCH_HAVE_LWIP
  if (which.starts_with("lwip-")) return callgrind_run(lwip_stacks(), bulk, amount);
#else
  if (which.starts_with("lwip-")) {
    std::printf("lwIP: skipped (not built)\n");
    return 0;
  }
#endif
  std::fprintf(stderr, "unknown --callgrind-run %.*s\n", static_cast<int>(which.size()), which.data());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string_view callgrind;
  std::uint64_t amount = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with("--callgrind-run=")) callgrind = arg.substr(16);
    if (arg.starts_with("--callgrind-amount=")) amount = std::strtoull(argv[i] + 19, nullptr, 10);
  }
  if (!callgrind.empty()) return callgrind_main(callgrind, amount);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
#ifndef UK_BENCH_HAVE_LWIP
  std::fprintf(stderr, "lwIP: skipped (its source was not fetched when this was built)\n");
#endif
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
