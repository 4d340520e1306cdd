// The direct stack's IPv4 layer (uk/direct/ipv4.hpp) and its reassembly
// core (uk/direct/ipv4_reassembly.hpp), in ns per datagram, over doubles of
// the Ethernet and ARP layers that do no work (buffers hot, in L1/L2):
//   ipv4_receive/N:        parse (checksum verified), accept, dispatch to the
//                          protocol handler, for N payload bytes;
//   ipv4_send/N:           route, header and checksum, the payload written once
//                          by the filler into the device slot (a memcpy of N bytes);
//   ipv4_send_fragmented/60000: one 60000-byte datagram into 41 fragments
//                          (the filler writes it once, each fragment copies its piece);
//   reassembly/F:          an F-fragment datagram through ipv4_reassembly::add:
//                          3 fragments (4000 bytes in 1480-byte pieces), 44
//                          fragments (60000 bytes in 1368-byte pieces);
//   ipv4_receive_fragmented/41: the 41 fragments of a 60000-byte datagram
//                          through the layer (parse, reassemble, dispatch).
//
//   g++ -std=c++20 -O2 -Iinclude benchmarks/direct_ipv4.cpp -lbenchmark -lbenchmark_main -lpthread -lfmt
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include "uk/direct/ipv4.hpp"
#include "uk/direct/ipv4_reassembly.hpp"

namespace {

namespace ipv4_wire = uk::wire::ipv4;
using uk::ipv4_address;

const ipv4_address our_ip = ipv4_address::from_octets(10, 0, 0, 2);
const ipv4_address peer_ip = ipv4_address::from_octets(10, 0, 0, 1);

/// An Ethernet layer that keeps the IPv4 receiver and discards what is sent.
struct ethernet_sink {
  uk::mac_address mac() const { return {}; }
  std::size_t mtu() const { return 1500; }
  bool transmit(uk::mac_address, std::uint16_t, std::size_t size, uk::frame_filler fill) {
    return fill(std::span(slot).first(size)) > 0;
  }
  void set_receiver(std::uint16_t, uk::ethernet_handler h) { receiver = h; }
  int counters() const { return 0; }
  std::array<std::byte, 1500> slot{};
  uk::ethernet_handler receiver;
};

/// An ARP layer whose every address is resolved: the frame is written into one slot.
struct arp_sink {
  void set_address(ipv4_address) {}
  std::optional<uk::mac_address> lookup(ipv4_address) const { return uk::mac_address{}; }
  void add_static(ipv4_address, uk::mac_address) {}
  bool transmit(ipv4_address, std::uint16_t, std::size_t size, uk::frame_filler fill) {
    const std::size_t n = fill(std::span(slot).first(size));
    benchmark::DoNotOptimize(slot.data());
    frames += n > 0;
    return true;
  }
  uk::instant poll(uk::instant) { return uk::never; }
  int counters() const { return 0; }
  std::array<std::byte, 1500> slot{};
  std::size_t frames = 0;
};

struct fixed_config {
  std::optional<uk::ipv4_prefix> address() const { return uk::ipv4_prefix{our_ip, 24}; }
  std::optional<ipv4_address> gateway() const { return peer_ip; }
  void set_change_handler(uk::delegate<void()>) {}
};

struct fixed_clock {
  uk::instant operator()() const { return uk::instant{}; }
};

using ip_layer = uk::direct::ipv4<ethernet_sink, arp_sink, fixed_config>;

struct counting_handler {
  std::size_t bytes = 0;
  void operator()(const uk::ipv4_datagram_info& info, uk::frame payload) {
    bytes += payload.size() + info.ttl;
  }
};

std::vector<std::byte> filled(std::size_t n) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>(i * 7 + 1);
  return v;
}

/// The fragments of a datagram of `size` bytes cut into `piece`-byte pieces.
std::vector<std::vector<std::byte>> fragments(std::size_t size, std::size_t piece) {
  const auto payload = filled(size);
  std::vector<std::vector<std::byte>> out;
  for (std::size_t at = 0; at < size; at += piece) {
    const std::size_t n = std::min(piece, size - at);
    ipv4_wire::repr r;
    r.src = peer_ip;
    r.dst = our_ip;
    r.protocol = ipv4_wire::protocol_number::udp;
    r.identification = 0x4321;
    r.fragment_offset = static_cast<std::uint16_t>(at);
    r.more_fragments = at + n < size;
    r.payload_length = static_cast<std::uint16_t>(n);
    std::vector<std::byte> f(20 + n);
    ipv4_wire::emit(r, f);
    std::memcpy(f.data() + 20, payload.data() + at, n);
    out.push_back(std::move(f));
  }
  return out;
}

struct layer_fixture {
  ethernet_sink eth;
  arp_sink arp;
  fixed_config config;
  fixed_clock clock;
  ip_layer ip{eth, arp, config, uk::clock_ref(clock)};
  counting_handler handler;
  layer_fixture() { ip.set_receiver(ipv4_wire::protocol_number::udp, uk::ipv4_handler(handler)); }
};

void ipv4_receive(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  layer_fixture f;
  ipv4_wire::repr r;
  r.src = peer_ip;
  r.dst = our_ip;
  r.protocol = ipv4_wire::protocol_number::udp;
  r.payload_length = static_cast<std::uint16_t>(size);
  auto datagram = filled(20 + size);
  ipv4_wire::emit(r, datagram);
  for (auto _ : state) {
    f.eth.receiver(uk::mac_address{}, datagram);
    benchmark::DoNotOptimize(f.handler.bytes);
  }
  if (f.ip.counters().rx_datagrams != static_cast<std::uint64_t>(state.iterations())) state.SkipWithError("dropped");
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
}
BENCHMARK(ipv4_receive)->Arg(64)->Arg(1472);

void ipv4_send(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  layer_fixture f;
  const auto payload = filled(size);
  auto fill = [&](std::span<std::byte> out) {
    std::memcpy(out.data(), payload.data(), size);
    return size;
  };
  const uk::frame_filler filler(fill);
  for (auto _ : state) {
    if (!f.ip.transmit(peer_ip, ipv4_wire::protocol_number::udp, size, filler)) state.SkipWithError("refused");
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
}
BENCHMARK(ipv4_send)->Arg(64)->Arg(1472);

void ipv4_send_fragmented(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  layer_fixture f;
  const auto payload = filled(size);
  auto fill = [&](std::span<std::byte> out) {
    std::memcpy(out.data(), payload.data(), size);
    return size;
  };
  const uk::frame_filler filler(fill);
  for (auto _ : state) {
    if (!f.ip.transmit(peer_ip, ipv4_wire::protocol_number::udp, size, filler)) state.SkipWithError("refused");
  }
  state.counters["fragments"] = static_cast<double>(f.arp.frames) / static_cast<double>(state.iterations());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
}
BENCHMARK(ipv4_send_fragmented)->Arg(60000);

void reassembly(benchmark::State& state) {
  const auto count = static_cast<std::size_t>(state.range(0));
  const std::size_t size = count == 3 ? 4000 : 60000;
  const std::size_t piece = count == 3 ? 1480 : 1368;
  const auto parts = fragments(size, piece);
  if (parts.size() != count) {
    state.SkipWithError("wrong fragment count");
    return;
  }
  std::vector<ipv4_wire::view> views;
  for (const auto& p : parts) views.push_back(*ipv4_wire::parse(p));
  uk::direct::ipv4_reassembly core;
  std::size_t complete = 0;
  for (auto _ : state) {
    for (const auto& v : views) {
      const auto r = core.add(uk::instant{}, v);
      if (r.state == uk::direct::ipv4_reassembly::status::complete) {
        benchmark::DoNotOptimize(r.payload.data());
        ++complete;
      }
    }
  }
  if (complete != static_cast<std::size_t>(state.iterations())) state.SkipWithError("not reassembled");
  state.counters["ns_per_fragment"] = benchmark::Counter(static_cast<double>(state.iterations() * count),
                                                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
}
BENCHMARK(reassembly)->Arg(3)->Arg(44);

void ipv4_receive_fragmented(benchmark::State& state) {
  layer_fixture f;
  const auto parts = fragments(60000, 1480);
  for (auto _ : state) {
    for (const auto& p : parts) f.eth.receiver(uk::mac_address{}, p);
    benchmark::DoNotOptimize(f.handler.bytes);
  }
  if (f.ip.counters().rx_reassembled != static_cast<std::uint64_t>(state.iterations())) state.SkipWithError("lost");
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * 60000));
}
BENCHMARK(ipv4_receive_fragmented)->Arg(41);

}  // namespace
