// The link layers of the direct stack, in ns per frame, over a netif double
// that hands frames in directly and accepts every frame out into one buffer
// (so the figures are the layers' own cost, not a device's):
//   ethernet_receive: a 98-byte IPv4 frame to our MAC parsed, filtered and
//     dispatched to the IPv4 handler (a no-op);
//   ethernet_transmit: the header written and an 84-byte payload filler called;
//   arp_transmit_resolved/N: a packet to a resolved address through arp, with
//     N entries in the table (a hash lookup, the recency update, ethernet);
//   arp_request: a request for our address from a known host handled and
//     answered (parse, merge, reply written);
//   arp_request_flood: requests for our address from ever new senders with
//     the table full (each one evicts an entry): the cost of an ARP flood.
//
//   g++ -std=c++20 -O2 -Iinclude benchmarks/direct_link.cpp -lbenchmark -lbenchmark_main -lpthread -lfmt
#include <benchmark/benchmark.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "uk/direct/arp.hpp"
#include "uk/direct/ethernet.hpp"
#include "uk/wire/arp.hpp"
#include "uk/wire/ethernet.hpp"

namespace {

namespace ethernet_wire = uk::wire::ethernet;
namespace arp_wire = uk::wire::arp;
using uk::ipv4_address;
using uk::mac_address;

constexpr mac_address our_mac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x0a}};
constexpr mac_address peer_mac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x0b}};
constexpr ipv4_address our_ip = ipv4_address::from_octets(10, 0, 0, 2);
constexpr ipv4_address peer_ip = ipv4_address::from_octets(10, 0, 0, 1);

/// Frames in: the benchmark calls receiver directly. Frames out: written
/// into one buffer and forgotten.
struct null_netif {
  uk::netif_counters counts;
  uk::frame_handler receiver;
  std::array<std::byte, 1514> slot{};

  mac_address mac() const { return our_mac; }
  std::size_t mtu() const { return 1500; }
  std::size_t transmit_queue_limit() const { return 1024; }
  void set_receiver(uk::frame_handler h) { receiver = h; }
  const uk::netif_counters& counters() const { return counts; }
  bool transmit(std::size_t size, uk::frame_filler fill) {
    const std::size_t n = fill(std::span(slot).first(size));
    benchmark::DoNotOptimize(slot.data());
    ++counts.tx_frames;
    counts.tx_bytes += n;
    return true;
  }
};

struct virtual_clock {
  uk::instant now = uk::instant{} + std::chrono::seconds(1);
  uk::instant read() { return now; }
};

using eth_t = uk::direct::ethernet<null_netif>;
using arp_t = uk::direct::arp<eth_t>;

struct sink {
  std::size_t bytes = 0;
  void operator()(mac_address, uk::frame payload) { bytes += payload.size(); }
};

std::size_t fill_84(std::span<std::byte> out) {
  benchmark::DoNotOptimize(out.data());
  return 84;
}

std::vector<std::byte> arp_request_frame(mac_address sender_mac, ipv4_address sender_ip) {
  std::vector<std::byte> f(ethernet_wire::header_length + arp_wire::packet_length);
  ethernet_wire::emit({mac_address::broadcast(), sender_mac, ethernet_wire::ethertype::arp, std::nullopt}, f);
  arp_wire::emit(arp_wire::repr::request(sender_mac, sender_ip, our_ip),
                 std::span(f).subspan(ethernet_wire::header_length));
  return f;
}

void ethernet_receive(benchmark::State& state) {
  null_netif netif;
  eth_t eth(netif);
  sink s;
  eth.set_receiver(ethernet_wire::ethertype::ipv4, uk::ethernet_handler(s));
  std::vector<std::byte> frame(98);
  ethernet_wire::emit({our_mac, peer_mac, ethernet_wire::ethertype::ipv4, std::nullopt}, frame);
  for (auto _ : state) {
    netif.receiver(frame);
    benchmark::ClobberMemory();
  }
  if (eth.counters().rx_delivered != static_cast<std::uint64_t>(state.iterations()))
    state.SkipWithError("frames were not delivered");
  state.SetItemsProcessed(state.iterations());
}

void ethernet_transmit(benchmark::State& state) {
  null_netif netif;
  eth_t eth(netif);
  auto fill = [](std::span<std::byte> out) { return fill_84(out); };
  for (auto _ : state) {
    benchmark::DoNotOptimize(eth.transmit(peer_mac, ethernet_wire::ethertype::ipv4, 84, uk::frame_filler(fill)));
  }
  state.SetItemsProcessed(state.iterations());
}

void arp_transmit_resolved(benchmark::State& state) {
  null_netif netif;
  eth_t eth(netif);
  virtual_clock clock;
  arp_t arp(eth, uk::clock_ref::bind<&virtual_clock::read>(clock));
  arp.set_address(our_ip);
  const auto entries = static_cast<std::uint32_t>(state.range(0));
  for (std::uint32_t i = 0; i < entries; ++i)
    arp.add_static(ipv4_address{peer_ip.value + i}, mac_address{{0x02, 0, 0, 1, static_cast<std::uint8_t>(i >> 8),
                                                                   static_cast<std::uint8_t>(i)}});
  auto fill = [](std::span<std::byte> out) { return fill_84(out); };
  const std::uint32_t mask = entries - 1;  // entries is a power of two
  std::uint32_t k = 0;
  for (auto _ : state) {
    const ipv4_address to{peer_ip.value + (k++ & mask)};
    benchmark::DoNotOptimize(arp.transmit(to, ethernet_wire::ethertype::ipv4, 84, uk::frame_filler(fill)));
  }
  if (arp.counters().cache_hits != static_cast<std::uint64_t>(state.iterations()))
    state.SkipWithError("not every send was a cache hit");
  state.SetItemsProcessed(state.iterations());
}

void arp_request(benchmark::State& state) {
  null_netif netif;
  eth_t eth(netif);
  virtual_clock clock;
  arp_t arp(eth, uk::clock_ref::bind<&virtual_clock::read>(clock));
  arp.set_address(our_ip);
  const auto frame = arp_request_frame(peer_mac, peer_ip);
  for (auto _ : state) {
    netif.receiver(frame);
  }
  if (arp.counters().replies_out != static_cast<std::uint64_t>(state.iterations()))
    state.SkipWithError("requests were not answered");
  state.SetItemsProcessed(state.iterations());
}

void arp_request_flood(benchmark::State& state) {
  null_netif netif;
  eth_t eth(netif);
  virtual_clock clock;
  arp_t arp(eth, uk::clock_ref::bind<&virtual_clock::read>(clock));  // 256 entries
  arp.set_address(our_ip);
  std::vector<std::vector<std::byte>> frames;
  for (std::uint32_t i = 0; i < 4096; ++i)
    frames.push_back(arp_request_frame(mac_address{{0x02, 0, 0, 2, static_cast<std::uint8_t>(i >> 8),
                                                    static_cast<std::uint8_t>(i)}},
                                       ipv4_address{0x0a010000u + i}));
  std::size_t k = 0;
  for (auto _ : state) {
    netif.receiver(frames[k++ & 4095]);
  }
  if (arp.cache().size() > 256) state.SkipWithError("the table grew past its capacity");
  state.counters["evictions"] = static_cast<double>(arp.counters().evictions);
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(ethernet_receive);
BENCHMARK(ethernet_transmit);
BENCHMARK(arp_transmit_resolved)->Arg(1)->Arg(256);
BENCHMARK(arp_request);
BENCHMARK(arp_request_flood);
