// Module type ARP (Mirage's Arp.S): IPv4-to-MAC resolution (RFC 826).
#pragma once

#include <concepts>
#include <optional>

#include "uk/concepts/netif.hpp"
#include "uk/time.hpp"

namespace uk {

/// An ARP layer.
///   a.set_address(ip)         the address we answer for (gratuitous ARP announces it)
///   a.lookup(ip)              the cached MAC of `ip`, if resolved
///   a.add_static(ip, mac)     a permanent entry
///   a.transmit(ip, type, size, fill)
///                             sends a frame to the MAC of `ip`: now if resolved, else
///                             queued (bounded) while a request is retried; false when dropped
///   a.poll(now)               retries requests and ages entries (see uk/time.hpp)
///   a.counters()              requests and replies in and out, drops by reason
template <class A>
concept arp_layer = requires(A& a, const A& ca, ipv4_address ip, mac_address mac, std::uint16_t type,
                             std::size_t size, frame_filler fill, instant now) {
  { a.set_address(ip) } -> std::same_as<void>;
  { ca.lookup(ip) } -> std::same_as<std::optional<mac_address>>;
  { a.add_static(ip, mac) } -> std::same_as<void>;
  { a.transmit(ip, type, size, fill) } -> std::same_as<bool>;
  { a.poll(now) } -> std::same_as<instant>;
  ca.counters();
};

}  // namespace uk
