// Module type NETIF (Mirage_net.S): a network interface that carries
// Ethernet frames.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>

#include "uk/addr.hpp"
#include "uk/delegate.hpp"

namespace uk {

/// A received frame or payload: valid only during the handler call.
using frame = std::span<const std::byte>;

/// Called once per received frame.
using frame_handler = delegate<void(frame)>;

/// Writes an outgoing frame (or payload) into the buffer it is given and
/// returns the number of bytes written. The buffer is the device's own
/// transmit slot: a frame is written once, in place (Mirage's `write ~size fillf`).
using frame_filler = delegate<std::size_t(std::span<std::byte>)>;

/// What every netif counts.
struct netif_counters {
  std::uint64_t rx_frames = 0, rx_bytes = 0;
  std::uint64_t tx_frames = 0, tx_bytes = 0;
  std::uint64_t rx_dropped = 0;           ///< frames the device could not deliver (too long, read errors)
  std::uint64_t tx_dropped_queue_full = 0;///< frames refused because the transmit queue was full
};

/// A network interface.
///   n.mac()                 its MAC address
///   n.mtu()                 the largest payload of one frame, Ethernet header excluded (1500 on TAP)
///   n.transmit_queue_limit() how many frames it queues before refusing more (smoltcp #949:
///                           upper layers pace bursts against this, so it is exposed)
///   n.transmit(size, fill)  asks `fill` to write a frame of at most `size` bytes into the
///                           device's buffer; false when the queue is full (counted)
///   n.set_receiver(h)       every received frame is passed to `h`
///   n.counters()            the counters above
template <class N>
concept netif = requires(N& n, const N& cn, std::size_t size, frame_filler fill, frame_handler h) {
  { cn.mac() } -> std::same_as<mac_address>;
  { cn.mtu() } -> std::convertible_to<std::size_t>;
  { cn.transmit_queue_limit() } -> std::convertible_to<std::size_t>;
  { n.transmit(size, fill) } -> std::same_as<bool>;
  { n.set_receiver(h) } -> std::same_as<void>;
  { cn.counters() } -> std::convertible_to<const netif_counters&>;
};

}  // namespace uk
