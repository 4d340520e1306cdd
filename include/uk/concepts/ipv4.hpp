// Module type IPV4 (Mirage_protocols.IP): IPv4 over an Ethernet layer.
#pragma once

#include <concepts>
#include <cstdint>
#include <optional>

#include "uk/concepts/netif.hpp"
#include "uk/time.hpp"

namespace uk {

/// What upper layers learn about a received datagram beside its payload.
struct ipv4_datagram_info {
  ipv4_address source{};
  ipv4_address destination{};
  std::uint8_t protocol = 0;
  std::uint8_t ttl = 0;
  frame header{};  ///< the IP header as received (of the first fragment), for ICMP to quote
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
///   ip.poll(now)                  expires reassembly buffers (see uk/time.hpp)
///   ip.counters()                 datagrams in and out, drops by reason
template <class I>
concept ipv4_layer = requires(I& ip, const I& cip, ipv4_address dst, std::uint8_t proto, std::size_t size,
                              frame_filler fill, ipv4_handler h, instant now) {
  { cip.address() } -> std::same_as<std::optional<ipv4_prefix>>;
  { cip.gateway() } -> std::same_as<std::optional<ipv4_address>>;
  { cip.mtu() } -> std::convertible_to<std::size_t>;
  { ip.transmit(dst, proto, size, fill) } -> std::same_as<bool>;
  { ip.set_receiver(proto, h) } -> std::same_as<void>;
  { ip.poll(now) } -> std::same_as<instant>;
  cip.counters();
};

/// An IPv4 address configuration policy (Mirage's static / DHCP / QubesDB
/// configuration): where the IPv4 layer gets its address and gateway.
///   c.address(), c.gateway()   the current configuration (none yet: DHCP before its lease)
///   c.set_change_handler(h)    `h` is called whenever either changes
template <class C>
concept ipv4_config = requires(C& c, const C& cc, delegate<void()> h) {
  { cc.address() } -> std::same_as<std::optional<ipv4_prefix>>;
  { cc.gateway() } -> std::same_as<std::optional<ipv4_address>>;
  { c.set_change_handler(h) } -> std::same_as<void>;
};

}  // namespace uk
