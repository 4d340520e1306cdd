// Parse and emit of DHCP messages (uk/wire/dhcp.hpp), in ns per message.
//   parse/discover: a client's DHCPDISCOVER (message type, parameter request
//                   list, hostname, client id), 300 octets;
//   parse/ack:      a server's DHCPACK with the lease, mask, router and DNS;
//   parse/overload: the same ACK with its options continued in file and sname;
//   emit/ack:       writing that ACK from its repr (300 octets, padded).
#include <benchmark/benchmark.h>

#include <array>
#include <cstddef>
#include <vector>

#include "uk/wire/dhcp.hpp"

namespace {

namespace dhcp = uk::wire::dhcp;
using uk::ipv4_address;

constexpr std::array<std::byte, 7> prl{std::byte{1}, std::byte{3}, std::byte{6}, std::byte{12},
                                       std::byte{15}, std::byte{28}, std::byte{42}};
constexpr std::array<std::byte, 7> client_id{std::byte{1}, std::byte{2}, std::byte{0}, std::byte{0},
                                             std::byte{0}, std::byte{0}, std::byte{2}};

dhcp::repr discover() {
  dhcp::repr r;
  r.xid = 0xd5707012u;
  r.set_client_mac({{0x02, 0, 0, 0, 0, 0x02}});
  r.options.message_type = dhcp::message_type::discover;
  r.options.parameter_request_list = dhcp::octet_string{prl};
  r.options.hostname = "uk-client";
  r.options.client_id = dhcp::octet_string{client_id};
  return r;
}

dhcp::repr ack() {
  dhcp::repr r;
  r.op = dhcp::opcode::boot_reply;
  r.xid = 0xd5707012u;
  r.set_client_mac({{0x02, 0, 0, 0, 0, 0x02}});
  r.yiaddr = ipv4_address::from_octets(192, 0, 2, 146);
  r.siaddr = ipv4_address::from_octets(192, 0, 2, 1);
  auto& o = r.options;
  o.message_type = dhcp::message_type::ack;
  o.server_id = ipv4_address::from_octets(192, 0, 2, 1);
  o.lease_time = 3600;
  o.renewal_time = 1800;
  o.rebinding_time = 3150;
  o.subnet_mask = ipv4_address::from_octets(255, 255, 255, 0);
  o.routers = {ipv4_address::from_octets(192, 0, 2, 1)};
  o.dns_servers = {ipv4_address::from_octets(192, 0, 2, 53), ipv4_address::from_octets(192, 0, 2, 54)};
  return r;
}

std::vector<std::byte> emitted(const dhcp::repr& r) {
  std::vector<std::byte> out(r.length());
  dhcp::emit(r, out);
  return out;
}

/// The ACK with overload 3: lease times and DNS in file, mask and router in sname.
std::vector<std::byte> overloaded_ack() {
  dhcp::repr r = ack();
  r.options = {};
  r.options.message_type = dhcp::message_type::ack;
  r.options.server_id = ipv4_address::from_octets(192, 0, 2, 1);
  auto m = emitted(r);
  auto put = [&](std::size_t at, std::initializer_list<int> octets) {
    for (int o : octets) m[at++] = static_cast<std::byte>(o);
  };
  put(dhcp::options_offset + 9, {52, 1, 3, 255});
  put(dhcp::field::file, {51, 4, 0, 0, 0x0e, 0x10, 58, 4, 0, 0, 7, 8, 59, 4, 0, 0, 0x0c, 0x4e,
                          6, 8, 192, 0, 2, 53, 192, 0, 2, 54, 255});
  put(dhcp::field::sname, {1, 4, 255, 255, 255, 0, 3, 4, 192, 0, 2, 1, 255});
  return m;
}

void parse_bench(benchmark::State& state, const std::vector<std::byte>& message) {
  for (auto _ : state) {
    auto v = dhcp::parse(message);
    benchmark::DoNotOptimize(v);
  }
  if (!dhcp::parse(message)) state.SkipWithError("the message does not parse");
}

void BM_parse_discover(benchmark::State& state) { parse_bench(state, emitted(discover())); }
void BM_parse_ack(benchmark::State& state) { parse_bench(state, emitted(ack())); }
void BM_parse_overload(benchmark::State& state) { parse_bench(state, overloaded_ack()); }

void BM_emit_ack(benchmark::State& state) {
  const dhcp::repr r = ack();
  std::vector<std::byte> out(r.length());
  for (auto _ : state) {
    benchmark::DoNotOptimize(out.data());
    auto n = dhcp::emit(r, out);
    benchmark::DoNotOptimize(n);
    benchmark::ClobberMemory();
  }
}

void BM_emit_discover(benchmark::State& state) {
  const dhcp::repr r = discover();
  std::vector<std::byte> out(r.length());
  for (auto _ : state) {
    benchmark::DoNotOptimize(out.data());
    auto n = dhcp::emit(r, out);
    benchmark::DoNotOptimize(n);
    benchmark::ClobberMemory();
  }
}

}  // namespace

BENCHMARK(BM_parse_discover);
BENCHMARK(BM_parse_ack);
BENCHMARK(BM_parse_overload);
BENCHMARK(BM_emit_discover);
BENCHMARK(BM_emit_ack);
