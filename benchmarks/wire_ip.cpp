// Parse and emit of IPv4 headers (uk/wire/ipv4.hpp) and ICMP messages
// (uk/wire/icmpv4.hpp), in ns per header. Buffers are hot (in L1).
//   ipv4_parse:            a 20-byte header of an 84-byte ping (checksum over the header);
//   ipv4_parse_options:    a 36-byte header (NOP, NOP, timestamp, as Linux sent it);
//   ipv4_parse_repr:       parse, then repr::from (every field read);
//   ipv4_emit:             a 20-byte header from its repr, checksum included;
//   ipv4_set_ttl:          a TTL rewrite with the RFC 1624 incremental checksum;
//   icmpv4_parse_echo/N:   an echo request of N bytes (checksum over all N);
//   icmpv4_emit_echo/N:    the header and checksum of an N-byte echo in place;
//   icmpv4_parse_error:    a port unreachable quoting 28 bytes, and its quoted
//                          header parsed with ipv4::parse_quoted.
//
//   g++ -std=c++20 -O2 -Iinclude benchmarks/wire_ip.cpp -lbenchmark -lbenchmark_main -lpthread
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "uk/wire/icmpv4.hpp"
#include "uk/wire/ipv4.hpp"

namespace {

namespace icmpv4 = uk::wire::icmpv4;
namespace ipv4 = uk::wire::ipv4;

// The header of the kernel's echo request in tests/data/kernel_arp_icmp.pcap (frame 5).
ipv4::repr ping_header() {
  ipv4::repr r;
  r.src = uk::ipv4_address::from_octets(192, 0, 2, 1);
  r.dst = uk::ipv4_address::from_octets(192, 0, 2, 2);
  r.protocol = ipv4::protocol_number::icmp;
  r.identification = 0x5824;
  r.dont_fragment = true;
  r.payload_length = 64;
  return r;
}

std::vector<std::byte> filled(std::size_t n) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>(i * 7 + 1);
  return v;
}

std::vector<std::byte> ping_datagram() {
  const auto r = ping_header();
  auto d = filled(r.total_length());
  ipv4::emit(r, d);
  return d;
}

// The options header of tests/data/kernel_icmp_errors.pcap frame 9 (IHL 9).
std::vector<std::byte> options_datagram() {
  std::vector<std::byte> d = filled(60);
  constexpr std::array<int, 36> header{0x49, 0x00, 0x00, 0x3c, 0xde, 0x43, 0x40, 0x00, 0x40,
                                       0x11, 0x46, 0xf1, 0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33,
                                       0x64, 0x02, 0x01, 0x01, 0x44, 0x0c, 0x09, 0x00, 0x03,
                                       0xc8, 0xd3, 0x6f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  std::transform(header.begin(), header.end(), d.begin(), [](int b) { return std::byte(b); });
  return d;
}

std::vector<std::byte> echo_message(std::size_t n) {
  auto m = filled(n);
  icmpv4::emit({icmpv4::echo_request{0x1333, 1}}, m);
  return m;
}

std::vector<std::byte> port_unreachable() {
  ipv4::repr quoted;
  quoted.src = uk::ipv4_address::from_octets(192, 0, 2, 1);
  quoted.dst = uk::ipv4_address::from_octets(198, 51, 100, 2);
  quoted.protocol = ipv4::protocol_number::udp;
  quoted.ttl = 63;
  quoted.payload_length = 33;
  auto m = filled(8 + 28);
  ipv4::emit(quoted, std::span(m).subspan(8));
  icmpv4::emit({icmpv4::destination_unreachable{icmpv4::unreachable_code::port_unreachable}}, m);
  return m;
}

void ipv4_parse_bytes(benchmark::State& state, std::vector<std::byte> buffer) {
  if (!ipv4::parse(buffer)) state.SkipWithError("datagram does not parse");
  for (auto _ : state) {
    benchmark::DoNotOptimize(buffer.data());
    auto v = ipv4::parse(buffer);
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void ipv4_parse(benchmark::State& state) { ipv4_parse_bytes(state, ping_datagram()); }
void ipv4_parse_options(benchmark::State& state) { ipv4_parse_bytes(state, options_datagram()); }

void ipv4_parse_repr(benchmark::State& state) {
  auto buffer = ping_datagram();
  if (ipv4::repr::from(*ipv4::parse(buffer)) != ping_header()) state.SkipWithError("repr differs");
  for (auto _ : state) {
    benchmark::DoNotOptimize(buffer.data());
    auto r = ipv4::repr::from(*ipv4::parse(buffer));
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void ipv4_emit(benchmark::State& state) {
  auto r = ping_header();
  std::array<std::byte, 20> out{};
  for (auto _ : state) {
    ++r.identification;  // a new datagram each time, as a sender emits them
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(ipv4::emit(r, out));
    benchmark::ClobberMemory();
  }
  if (!ipv4::parse_quoted(out)) state.SkipWithError("emitted header does not parse");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void ipv4_set_ttl(benchmark::State& state) {
  auto buffer = ping_datagram();
  std::uint8_t ttl = 64;
  for (auto _ : state) {
    benchmark::DoNotOptimize(buffer.data());
    ipv4::set_ttl(buffer, ttl--);
    benchmark::ClobberMemory();
  }
  if (!ipv4::parse(buffer)) state.SkipWithError("checksum broken");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void icmpv4_parse_echo(benchmark::State& state) {
  auto buffer = echo_message(static_cast<std::size_t>(state.range(0)));
  if (!icmpv4::parse(buffer)) state.SkipWithError("message does not parse");
  for (auto _ : state) {
    benchmark::DoNotOptimize(buffer.data());
    auto v = icmpv4::parse(buffer);
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void icmpv4_emit_echo(benchmark::State& state) {
  auto buffer = filled(static_cast<std::size_t>(state.range(0)));
  icmpv4::repr r{icmpv4::echo_reply{0x1333, 1}};
  for (auto _ : state) {
    benchmark::DoNotOptimize(buffer.data());
    benchmark::DoNotOptimize(icmpv4::emit(r, buffer));
    benchmark::ClobberMemory();
  }
  if (!icmpv4::parse(buffer)) state.SkipWithError("emitted message does not parse");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void icmpv4_parse_error(benchmark::State& state) {
  auto buffer = port_unreachable();
  if (!icmpv4::parse(buffer) || !icmpv4::parse(buffer)->quoted_datagram())
    state.SkipWithError("message does not parse");
  for (auto _ : state) {
    benchmark::DoNotOptimize(buffer.data());
    auto v = icmpv4::parse(buffer);
    auto q = v->quoted_datagram();
    benchmark::DoNotOptimize(q);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

}  // namespace

BENCHMARK(ipv4_parse);
BENCHMARK(ipv4_parse_options);
BENCHMARK(ipv4_parse_repr);
BENCHMARK(ipv4_emit);
BENCHMARK(ipv4_set_ttl);
BENCHMARK(icmpv4_parse_echo)->Arg(64)->Arg(1480);
BENCHMARK(icmpv4_emit_echo)->Arg(64)->Arg(1480);
BENCHMARK(icmpv4_parse_error);
