// The TCP layer's hot path allocates nothing: once a connection is
// established, receiving segments, reading, writing, sending and polling
// timers use only memory allocated before (Beast's and smoltcp's rule for a
// data path). This file replaces operator new for the whole executable.
#include <catch2/catch.hpp>

#include "support/allocation_counter.hpp"

#include <uk/direct/tcp/layer.hpp>

#include <array>
#include <cstring>
#include <vector>

namespace {

using namespace std::chrono_literals;
using uk::ipv4_address;
using uk::test::allocation_counter;
namespace tcp = uk::direct::tcp;
namespace wire_tcp = uk::wire::tcp;

const ipv4_address our_ip{0x0a000002}, peer_ip{0x0a000001};

/// An IPv4 double that keeps only the last segment, in a fixed buffer.
struct ipv4_sink {
  std::optional<uk::ipv4_prefix> address() const { return uk::ipv4_prefix{our_ip, 24}; }
  std::optional<ipv4_address> gateway() const { return std::nullopt; }
  std::size_t mtu() const { return 1480; }
  bool transmit(ipv4_address, std::uint8_t, std::size_t size, uk::frame_filler fill) {
    last_size = fill(std::span(buffer).first(std::min(size, buffer.size())));
    ++sent;
    return true;
  }
  void set_receiver(std::uint8_t, uk::ipv4_handler h) { receiver = h; }
  uk::instant poll(uk::instant) { return uk::never; }
  int counters() const { return 0; }
  wire_tcp::view last() const { return wire_tcp::view::unchecked(std::span(buffer).first(last_size)); }

  std::array<std::byte, 65536> buffer{};
  std::size_t last_size = 0, sent = 0;
  uk::ipv4_handler receiver;
};

struct virtual_clock {
  uk::instant now{};
  uk::instant read() { return now; }
};

std::vector<std::byte> segment(std::uint32_t seq, std::uint32_t ack, wire_tcp::flags f, std::size_t payload) {
  wire_tcp::repr r;
  r.source_port = 40000;
  r.destination_port = 80;
  r.sequence_number = seq;
  r.acknowledgment_number = ack;
  r.flags = f;
  r.window = 65535;
  r.payload_length = payload;
  if (f.has(wire_tcp::flags::syn)) r.options.mss = 1460;
  std::vector<std::byte> out(r.buffer_length(), std::byte{0x5a});
  wire_tcp::emit(r, out, peer_ip, our_ip);
  return out;
}

}  // namespace

TEST_CASE("TCP layer: an established connection's data path allocates nothing") {
  virtual_clock clock;
  ipv4_sink ip;
  tcp::layer_options options;
  options.connection.send_buffer = options.connection.receive_buffer = 64 * 1024;
  tcp::layer<ipv4_sink> layer(ip, uk::clock_ref::bind<&virtual_clock::read>(clock), {{1, 2}, {3, 4}, {5, 6}, 7},
                              options);
  auto l = layer.listen(80);
  REQUIRE(l);
  auto deliver = [&](const std::vector<std::byte>& s) {
    ip.receiver(uk::ipv4_datagram_info{peer_ip, our_ip, 6, 64, {}}, s);
  };
  deliver(segment(1000, 0, wire_tcp::flags::syn, 0));
  const std::uint32_t iss = ip.last().sequence_number();
  deliver(segment(1001, iss + 1, wire_tcp::flags::ack, 0));
  auto c = layer.accept(*l);
  REQUIRE(c);

  // Two rounds of 40 segments of 1000 bytes with reads, writes and timers;
  // the first warms up the layer's reusable vectors, the second is counted.
  constexpr int per_round = 40;
  std::vector<std::vector<std::byte>> data;
  for (int i = 0; i < 2 * per_round; ++i)
    data.push_back(segment(1001 + 1000 * static_cast<std::uint32_t>(i), iss + 1, wire_tcp::flags::ack, 1000));
  std::array<std::byte, 4096> app{};
  std::size_t moved = 0, allocations = 0;
  for (int round = 0; round < 2; ++round) {
    allocation_counter counter;
    for (int i = round * per_round; i < (round + 1) * per_round; ++i) {
      deliver(data[static_cast<std::size_t>(i)]);
      moved += layer.read(*c, app, clock.now);
      layer.write(*c, std::span(app).first(100), clock.now);
      clock.now += 10ms;
      layer.poll(clock.now);
    }
    if (round == 1) allocations = counter.count();
  }
  CHECK(moved == 2 * per_round * 1000);
  CHECK(allocations == 0);
  CHECK(layer.find(*c)->current_state() == tcp::state::established);
}
