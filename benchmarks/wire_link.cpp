// Parse and emit of the link-layer headers, in ns per header:
//   ethernet parse / parse_tagged: validating a 98-byte Ethernet II frame
//     (untagged, or with one 802.1Q tag) and reading its fields into a repr;
//   ethernet emit / emit_tagged: writing the 14- or 18-byte header;
//   arp parse: validating a 28-byte request and reading its fields;
//   arp emit: writing a 28-byte reply.
//
//   g++ -std=c++20 -O2 -Iinclude benchmarks/wire_link.cpp -lbenchmark -lbenchmark_main -lpthread -lfmt
#include <benchmark/benchmark.h>

#include <array>
#include <cstddef>
#include <span>
#include <vector>

#include "uk/wire/arp.hpp"
#include "uk/wire/ethernet.hpp"

namespace {

namespace ethernet = uk::wire::ethernet;
namespace arp = uk::wire::arp;
using uk::ipv4_address;
using uk::mac_address;

constexpr mac_address host_a{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
constexpr mac_address host_b{{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}};
constexpr ipv4_address ip_a = ipv4_address::from_octets(192, 0, 2, 1);
constexpr ipv4_address ip_b = ipv4_address::from_octets(192, 0, 2, 2);

ethernet::repr frame_repr(bool tagged) {
  ethernet::repr r{host_b, host_a, ethernet::ethertype::ipv4, std::nullopt};
  if (tagged) r.vlan = ethernet::vlan_tag{5, false, 100};
  return r;
}

std::vector<std::byte> frame(bool tagged) {
  std::vector<std::byte> f(98);
  ethernet::emit(frame_repr(tagged), f);
  return f;
}

void ethernet_parse_bench(benchmark::State& state, bool tagged) {
  const auto f = frame(tagged);
  if (!ethernet::parse(f)) state.SkipWithError("the frame does not parse");
  for (auto _ : state) {
    std::span<const std::byte> in(f);
    benchmark::DoNotOptimize(in);
    auto v = ethernet::parse(in);
    auto r = ethernet::repr::from(*v);
    benchmark::DoNotOptimize(r);
  }
}
void ethernet_parse(benchmark::State& state) { ethernet_parse_bench(state, false); }
void ethernet_parse_tagged(benchmark::State& state) { ethernet_parse_bench(state, true); }

void ethernet_emit_bench(benchmark::State& state, bool tagged) {
  const ethernet::repr r = frame_repr(tagged);
  std::array<std::byte, ethernet::tagged_header_length> out{};
  for (auto _ : state) {
    benchmark::DoNotOptimize(out.data());
    auto n = ethernet::emit(r, out);
    benchmark::DoNotOptimize(n);
    benchmark::ClobberMemory();
  }
}
void ethernet_emit(benchmark::State& state) { ethernet_emit_bench(state, false); }
void ethernet_emit_tagged(benchmark::State& state) { ethernet_emit_bench(state, true); }

void arp_parse(benchmark::State& state) {
  std::array<std::byte, arp::packet_length> packet{};
  arp::emit(arp::repr::request(host_a, ip_a, ip_b), packet);
  for (auto _ : state) {
    std::span<const std::byte> in(packet);
    benchmark::DoNotOptimize(in);
    auto v = arp::parse(in);
    auto r = arp::repr::from(*v);
    benchmark::DoNotOptimize(r);
  }
}

void arp_emit(benchmark::State& state) {
  const arp::repr r = arp::repr::reply_to(arp::repr::request(host_a, ip_a, ip_b), host_b);
  std::array<std::byte, arp::packet_length> out{};
  for (auto _ : state) {
    benchmark::DoNotOptimize(out.data());
    auto n = arp::emit(r, out);
    benchmark::DoNotOptimize(n);
    benchmark::ClobberMemory();
  }
}

}  // namespace

BENCHMARK(ethernet_parse);
BENCHMARK(ethernet_parse_tagged);
BENCHMARK(ethernet_emit);
BENCHMARK(ethernet_emit_tagged);
BENCHMARK(arp_parse);
BENCHMARK(arp_emit);
