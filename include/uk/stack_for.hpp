// uk::stack_for<Target, Net>: the network stack a configuration composes, as
// Mirage's `generic_stackv4` + `match_impl` picks one at configure time.
//
// The layers nest like mirage-tcpip's functor chain
// `Tcp.Make(Ipv4.Make(Ethernet.Make(Netif)))`:
//
//   unix/socket  socket::stack                                kernel sockets
//   unix/direct  direct::stack<pcap_writer<tap>, default_config>
//                  = udp<ipv4<ethernet<...>, arp<ethernet<...>>, default_config>>, icmpv4<ipv4<...>>,
//                    tcp::layer<ipv4<...>> (a uk::stack: udp() and tcp())
//                  default_config: DHCP (dhcp_config) unless --ipv4 is given (static_config),
//                  as Mirage since 4.10.5
//   qubes        direct::stack<pcap_writer<tap>, qubes::qubesdb_config>
//                  the address and gateway come from dom0's QubesDB (a /32 with an
//                  on-link gateway); hosted, the netif is a TAP (--interface) and
//                  QubesDB is reached over the socket vchan (--vchan-dir)
//
// The qubes composition is in uk/qubes/stack_composition.hpp, included at
// the end of this header only when the build selects UK_TARGET=qubes (or by
// whoever includes it): g++ 12 emits every inline coroutine of a header
// into each object that includes it, used or not, so including the Qubes
// devices everywhere would put Qubes code into unix binaries.
//
// target::qubes has no socket stack (uk::supports<qubes, socket> is false):
// a Qubes VM is a unikernel with its own stack, as in Mirage.
//
// Each layer's issue adds its layer to this composition; a configuration
// whose layers are not in this version of uk is a compile error saying so.
#pragma once

#include "uk/direct/stack.hpp"
#include "uk/direct/dhcp_or_static_config.hpp"
#include "uk/direct/static_config.hpp"
#include "uk/net/pcap_writer.hpp"
#include "uk/net/tap.hpp"
#include "uk/socket/stack.hpp"
#include "uk/target.hpp"

namespace uk {

namespace detail {
template <class...>
inline constexpr bool always_false = false;
}  // namespace detail

/// The composition of one configuration; specialised per configuration below.
template <target_tag Target, net_tag Net>
  requires supports<Target, Net>
struct stack_composition {
  static_assert(detail::always_false<Target, Net>,
                "uk: this configuration's stack is not in this version of uk");
};

template <>
struct stack_composition<target::unix, net::socket> {
  using type = socket::stack;
};

template <>
struct stack_composition<target::unix, net::direct> {
  /// The network interface: a TAP device, recorded to --pcap when given.
  using netif = net::pcap_writer<net::tap>;
  /// DHCP unless --ipv4 is given.
  using type = direct::stack<netif, direct::default_config>;
};

/// The stack type of a configuration.
template <target_tag Target, net_tag Net>
using stack_for = typename stack_composition<Target, Net>::type;

/// The network interface of a direct configuration (what an app over a netif
/// alone, like hello-network, asks for).
template <target_tag Target, net_tag Net>
using netif_for = typename stack_composition<Target, Net>::netif;

}  // namespace uk

#if UK_DETAIL_CAT(UK_DETAIL_TARGET_, UK_TARGET) == UK_DETAIL_TARGET_qubes
#include "uk/qubes/stack_composition.hpp"
#endif
