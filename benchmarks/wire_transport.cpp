// Parse and emit cost of the transport headers (uk/wire/udp.hpp, tcp.hpp):
// one header per iteration, so "Time" is ns per header. Both directions
// include the checksum over pseudo-header, header and payload, since parse
// verifies it and emit computes it; the Arg is the payload length.
//
//   udp_parse/N, udp_emit/N           an N-byte datagram
//   tcp_parse_syn, tcp_emit_syn       a SYN with MSS, window scale, SACK-permitted
//                                     and timestamps (the Linux SYN, 40-byte header)
//   tcp_parse_data/N, tcp_emit_data/N an ACK carrying N data bytes and timestamps
//                                     (32-byte header)
//   *_repr                            parse, then repr::from (options decoded)
#include <uk/wire/tcp.hpp>
#include <uk/wire/udp.hpp>

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tcp = uk::wire::tcp;
namespace udp = uk::wire::udp;

namespace {

const uk::ipv4_address source = uk::ipv4_address::from_octets(192, 0, 2, 1);
const uk::ipv4_address destination = uk::ipv4_address::from_octets(198, 51, 100, 2);

std::vector<std::byte> filled(std::size_t n) {
  std::vector<std::byte> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::byte>(i * 7 + 3);
  return out;
}

tcp::repr linux_syn() {
  tcp::repr r;
  r.source_port = 40001;
  r.destination_port = 8080;
  r.sequence_number = 2132316360u;
  r.flags = tcp::flags::syn;
  r.window = 64240;
  r.options.mss = 1460;
  r.options.sack_permitted = true;
  r.options.timestamps = tcp::timestamps_option{2271357068u, 0};
  r.options.window_scale = 10;
  return r;
}

tcp::repr data_segment(std::size_t payload) {
  tcp::repr r;
  r.source_port = 40002;
  r.destination_port = 8080;
  r.sequence_number = 1656042435u;
  r.acknowledgment_number = 3325134979u;
  r.flags = tcp::flags::ack | tcp::flags::psh;
  r.window = 63;
  r.options.timestamps = tcp::timestamps_option{829174u, 1757927266u};
  r.payload_length = payload;
  return r;
}

std::vector<std::byte> emitted(const tcp::repr& r) {
  auto buffer = filled(r.buffer_length());
  tcp::emit(r, buffer, source, destination);
  return buffer;
}

void udp_parse(benchmark::State& state) {
  const udp::repr r{40000, 7777, static_cast<std::size_t>(state.range(0))};
  auto buffer = filled(r.length());
  udp::emit(r, buffer, source, destination);
  for (auto _ : state) {
    benchmark::DoNotOptimize(buffer.data());
    auto v = udp::parse(buffer, source, destination);
    benchmark::DoNotOptimize(v);
  }
  if (!udp::parse(buffer, source, destination)) state.SkipWithError("datagram does not parse");
}

void udp_emit(benchmark::State& state) {
  const udp::repr r{40000, 7777, static_cast<std::size_t>(state.range(0))};
  auto buffer = filled(r.length());
  for (auto _ : state) {
    benchmark::DoNotOptimize(buffer.data());
    benchmark::DoNotOptimize(udp::emit(r, buffer, source, destination));
    benchmark::ClobberMemory();
  }
}

void tcp_parse(benchmark::State& state, const tcp::repr& r) {
  auto buffer = emitted(r);
  for (auto _ : state) {
    benchmark::DoNotOptimize(buffer.data());
    auto v = tcp::parse(buffer, source, destination);
    benchmark::DoNotOptimize(v);
  }
  if (!tcp::parse(buffer, source, destination)) state.SkipWithError("segment does not parse");
}

void tcp_parse_repr(benchmark::State& state, const tcp::repr& r) {
  auto buffer = emitted(r);
  for (auto _ : state) {
    benchmark::DoNotOptimize(buffer.data());
    auto v = tcp::parse(buffer, source, destination);
    auto out = tcp::repr::from(*v);
    benchmark::DoNotOptimize(out);
  }
  if (tcp::repr::from(*tcp::parse(buffer, source, destination)) != r) state.SkipWithError("repr differs");
}

void tcp_emit(benchmark::State& state, const tcp::repr& r) {
  auto buffer = filled(r.buffer_length());
  for (auto _ : state) {
    benchmark::DoNotOptimize(buffer.data());
    benchmark::DoNotOptimize(tcp::emit(r, buffer, source, destination));
    benchmark::ClobberMemory();
  }
}

void tcp_parse_syn(benchmark::State& state) { tcp_parse(state, linux_syn()); }
void tcp_parse_syn_repr(benchmark::State& state) { tcp_parse_repr(state, linux_syn()); }
void tcp_emit_syn(benchmark::State& state) { tcp_emit(state, linux_syn()); }
void tcp_parse_data(benchmark::State& state) { tcp_parse(state, data_segment(static_cast<std::size_t>(state.range(0)))); }
void tcp_parse_data_repr(benchmark::State& state) {
  tcp_parse_repr(state, data_segment(static_cast<std::size_t>(state.range(0))));
}
void tcp_emit_data(benchmark::State& state) { tcp_emit(state, data_segment(static_cast<std::size_t>(state.range(0)))); }

}  // namespace

BENCHMARK(udp_parse)->Arg(0)->Arg(32)->Arg(1472);
BENCHMARK(udp_emit)->Arg(0)->Arg(32)->Arg(1472);
BENCHMARK(tcp_parse_syn);
BENCHMARK(tcp_parse_syn_repr);
BENCHMARK(tcp_emit_syn);
BENCHMARK(tcp_parse_data)->Arg(0)->Arg(64)->Arg(1448);
BENCHMARK(tcp_parse_data_repr)->Arg(0)->Arg(64)->Arg(1448);
BENCHMARK(tcp_emit_data)->Arg(0)->Arg(64)->Arg(1448);
