// Module type IPV4 (Mirage_protocols.IP): IPv4 over an Ethernet layer.
#pragma once

#include <concepts>
#include <cstdint>
#include <optional>

#include "uk/concepts/netif.hpp"

namespace uk {

/// What upper layers learn about a received datagram beside its payload.
struct ipv4_datagram_info {
  ipv4_address source{};
  ipv4_address destination{};
  std::uint8_t protocol = 0;
  std::uint8_t ttl = 0;
};

/// Called with each received (reassembled) datagram of one protocol.
using ipv4_handler = delegate<void(const ipv4_datagram_info&, frame payload)>;

/// An IPv4 layer.
///   ip.address()                  our address and prefix, once configured
///   ip.gateway()                  the default gateway, if any
///   ip.mtu()                      the largest payload sent without fragmentation
///   ip.transmit(dst, proto, size, fill)
///                                 sends a datagram; `fill` writes `size` payload bytes
///                                 (fragmented when larger than mtu()); false when dropped
///   ip.set_receiver(proto, h)     datagrams of protocol `proto` go to `h`
template <class I>
concept ipv4_layer = requires(I& ip, const I& cip, ipv4_address dst, std::uint8_t proto, std::size_t size,
                              frame_filler fill, ipv4_handler h) {
  { cip.address() } -> std::same_as<std::optional<ipv4_prefix>>;
  { cip.gateway() } -> std::same_as<std::optional<ipv4_address>>;
  { cip.mtu() } -> std::convertible_to<std::size_t>;
  { ip.transmit(dst, proto, size, fill) } -> std::same_as<bool>;
  { ip.set_receiver(proto, h) } -> std::same_as<void>;
};

}  // namespace uk
