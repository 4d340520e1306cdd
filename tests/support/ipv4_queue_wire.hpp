// Two IPv4 layer doubles joined by in-memory queues, for driving two TCP
// layers against each other with no Ethernet, no ARP and no allocation while
// they run: each queue's storage is reserved up front, and a datagram that
// does not fit is refused (TCP counts it as lost). Used by the scale test and
// bench_tcp_scale.
#pragma once

#include <uk/addr.hpp>
#include <uk/concepts/ipv4.hpp>
#include <uk/time.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace uk::test {

struct queued_datagram {
  std::array<std::byte, 1600> bytes;
  std::size_t size;
};

/// One direction of the wire: datagrams queued in storage reserved up front.
struct datagram_queue {
  explicit datagram_queue(std::size_t capacity) {
    pending.reserve(capacity);
    delivering.reserve(capacity);
  }
  std::vector<queued_datagram> pending, delivering;
};

/// An IPv4 layer double that queues what it sends for the other side.
struct queued_ipv4_end {
  ipv4_address me;
  datagram_queue* out = nullptr;
  ipv4_handler receiver;
  std::optional<ipv4_prefix> address() const { return ipv4_prefix{me, 24}; }
  std::optional<ipv4_address> gateway() const { return std::nullopt; }
  std::size_t mtu() const { return 1500; }
  bool transmit(ipv4_address, std::uint8_t, std::size_t size, frame_filler fill) {
    if (out->pending.size() == out->pending.capacity() || size > 1600) return false;  // no allocation, ever
    out->pending.emplace_back();
    out->pending.back().size = fill(std::span(out->pending.back().bytes).first(size));
    return true;
  }
  void set_receiver(std::uint8_t, ipv4_handler h) { receiver = h; }
  instant poll(instant) { return never; }
  int counters() const { return 0; }
};

struct settable_clock {
  instant now{std::chrono::seconds{1}};
  instant read() { return now; }
};

}  // namespace uk::test
