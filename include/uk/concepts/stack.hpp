// Module type STACKV4 (Mirage's Stackv4): what an application gets as its
// network, whichever stack the build composed.
#pragma once

#include <type_traits>

#include "uk/concepts/arp.hpp"
#include "uk/concepts/ethernet.hpp"
#include "uk/concepts/icmpv4.hpp"
#include "uk/concepts/ipv4.hpp"
#include "uk/concepts/tcp.hpp"
#include "uk/concepts/udp.hpp"

namespace uk {

/// A stack that offers UDP: all an app needs that speaks only UDP (echo,
/// a DNS or DHCP service), so it also runs on a stack built without TCP.
///   s.udp()   its UDP layer
template <class S>
concept udp_stack = requires(S& s) {
  requires udp_layer<std::remove_reference_t<decltype(s.udp())>>;
};

/// A network stack (Mirage's STACKV4): kernel sockets or the direct stack.
///   s.udp()   its UDP layer
///   s.tcp()   its TCP layer
template <class S>
concept stack = udp_stack<S> && requires(S& s) {
  requires tcp_layer<std::remove_reference_t<decltype(s.tcp())>>;
};

/// The direct stack also exposes its lower layers, for apps that need them
/// (a firewall reading raw IPv4, a tool that pins ARP entries).
template <class S>
concept direct_stack = udp_stack<S> && requires(S& s) {
  requires ipv4_layer<std::remove_reference_t<decltype(s.ipv4())>>;
  requires icmpv4_layer<std::remove_reference_t<decltype(s.icmpv4())>>;
  requires arp_layer<std::remove_reference_t<decltype(s.arp())>>;
  requires ethernet_layer<std::remove_reference_t<decltype(s.ethernet())>>;
};

}  // namespace uk
