// A TCP layer over an IPv4 double, on virtual time: segments are delivered
// as a peer would send them, and everything the layer sends is kept, parsed.
#pragma once

#include <catch2/catch.hpp>

#include <uk/direct/tcp/layer.hpp>

#include <chrono>
#include <cstring>
#include <optional>
#include <set>
#include <string_view>
#include <vector>

namespace uk::test::tcp {

using namespace std::chrono_literals;
namespace wire_tcp = uk::wire::tcp;

inline const ipv4_address our_ip = *ipv4_address::parse("10.0.0.2");
inline const ipv4_address peer_ip = *ipv4_address::parse("10.0.0.1");

/// Records what TCP hands down; lets the test deliver segments up.
struct ipv4_double {
  std::optional<ipv4_prefix> address() const { return ipv4_prefix{our_ip, 24}; }
  std::optional<ipv4_address> gateway() const { return std::nullopt; }
  std::size_t mtu() const { return 1480; }
  bool transmit(ipv4_address dst, std::uint8_t proto, std::size_t size, frame_filler fill) {
    if (refuse) return false;
    std::vector<std::byte> datagram(size);
    datagram.resize(fill(datagram));
    sent.push_back({dst, proto, std::move(datagram)});
    return true;
  }
  void set_receiver(std::uint8_t proto, ipv4_handler h) {
    if (proto == wire_tcp::ip_protocol) receiver = h;
  }
  instant poll(instant) { return never; }
  int counters() const { return 0; }

  void deliver(std::span<const std::byte> segment, ipv4_address from = peer_ip, ipv4_address to = our_ip) {
    receiver(ipv4_datagram_info{from, to, wire_tcp::ip_protocol, 64, {}}, segment);
  }

  struct sent_datagram {
    ipv4_address destination;
    std::uint8_t protocol;
    std::vector<std::byte> bytes;
  };
  std::vector<sent_datagram> sent;
  ipv4_handler receiver;
  bool refuse = false;
};
static_assert(ipv4_layer<ipv4_double>);

/// A segment as the peer sends it.
inline std::vector<std::byte> segment(wire_tcp::repr r, std::string_view payload = {}, ipv4_address from = peer_ip,
                                      ipv4_address to = our_ip) {
  r.payload_length = payload.size();
  std::vector<std::byte> out(r.buffer_length());
  if (!payload.empty()) std::memcpy(out.data() + r.header_length(), payload.data(), payload.size());
  wire_tcp::emit(r, out, from, to);
  return out;
}

struct virtual_clock {
  instant now{};
  instant read() { return now; }
};

inline direct::tcp::layer_secrets fixed_secrets() {
  return {{1, 2}, {3, 4}, {5, 6}, 1000};
}

struct layer_fixture {
  explicit layer_fixture(direct::tcp::layer_options options = {})
      : tcp(ip, clock_ref::bind<&virtual_clock::read>(clock), fixed_secrets(), options) {}

  /// The segments sent since the last call, parsed (checksums verified).
  std::vector<wire_tcp::repr> take_sent() {
    std::vector<wire_tcp::repr> out;
    for (auto& d : ip.sent) {
      auto v = wire_tcp::parse(d.bytes, our_ip, d.destination);
      REQUIRE(v);
      out.push_back(wire_tcp::repr::from(*v));
    }
    ip.sent.clear();
    return out;
  }

  virtual_clock clock;
  ipv4_double ip;
  direct::tcp::layer<ipv4_double> tcp;
};

}  // namespace uk::test::tcp
