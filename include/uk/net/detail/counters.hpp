// What uk's devices count, beyond what every netif counts.
#pragma once

#include <cstddef>
#include <cstdint>

#include "uk/concepts/netif.hpp"

namespace uk::net {

/// The counters of uk's devices (tap, memory_link's ends): uk::netif_counters
/// and a few more. counters() returns one; it converts to const netif_counters&.
struct device_counters : netif_counters {
  /// transmit() asked for more than mtu() + 14 bytes: refused, nothing queued.
  std::uint64_t tx_dropped_oversize = 0;
  /// Frames the device failed to send (write errors other than "try again").
  std::uint64_t tx_errors = 0;
  /// Reads that failed (tap), not counting "nothing more to read".
  std::uint64_t rx_errors = 0;
  /// Times the receive loop woke up (tap): rx_frames / rx_wakeups frames per wake-up.
  std::uint64_t rx_wakeups = 0;
};

/// The Ethernet II header that precedes the mtu() bytes of payload (IEEE 802.3 3.1.1):
/// destination, source, ethertype; no FCS (the device adds and strips it).
inline constexpr std::size_t ethernet_header_length = 14;

}  // namespace uk::net
