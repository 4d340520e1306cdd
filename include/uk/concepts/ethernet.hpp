// Module type ETHERNET (Mirage's Ethernet.S): Ethernet II framing over a
// netif, demultiplexed by ethertype.
#pragma once

#include <concepts>
#include <cstdint>

#include "uk/concepts/netif.hpp"

namespace uk {

/// Called with the sender's MAC and the frame's payload.
using ethernet_handler = delegate<void(mac_address source, frame payload)>;

/// An Ethernet layer.
///   e.mac(), e.mtu()                   the interface's MAC and payload MTU
///   e.transmit(dst, type, size, fill)  sends a frame to `dst` with ethertype `type`;
///                                      `fill` writes at most `size` payload bytes
///   e.set_receiver(type, h)            payloads of frames of ethertype `type`
///                                      addressed to us go to `h`; others are dropped and counted
///   e.counters()                       frames in and out, drops by reason
template <class E>
concept ethernet_layer = requires(E& e, const E& ce, mac_address dst, std::uint16_t type, std::size_t size,
                                  frame_filler fill, ethernet_handler h) {
  { ce.mac() } -> std::same_as<mac_address>;
  { ce.mtu() } -> std::convertible_to<std::size_t>;
  { e.transmit(dst, type, size, fill) } -> std::same_as<bool>;
  { e.set_receiver(type, h) } -> std::same_as<void>;
  ce.counters();
};

}  // namespace uk
