// uk::stack_for<Target, Net>: the network stack a configuration composes, as
// Mirage's `generic_stackv4` + `match_impl` picks one at configure time.
//
// The layers nest like mirage-tcpip's functor chain
// `Tcp.Make(Ipv4.Make(Ethernet.Make(Netif)))`:
//
//   unix/socket  socket::stack                         kernel sockets (this version)
//   unix/direct  direct::stack<tap, static_config | dhcp_config>
//                  = udp<ipv4<ethernet<tap>, arp<ethernet<tap>>, Config>>, tcp<...>, icmpv4<...>
//   qubes        direct::stack<tap (hosted) or netfront, qubesdb_config>
//
// Each layer's issue adds its layer to this composition; a configuration
// whose layers are not in this version of uk is a compile error saying so.
#pragma once

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
                "uk: this configuration's stack is not in this version of uk yet: the direct stack "
                "(UK_NET=direct, UK_TARGET=qubes) arrives with the direct-stack issue");
};

template <>
struct stack_composition<target::unix, net::socket> {
  using type = socket::stack;
};

/// The stack type of a configuration.
template <target_tag Target, net_tag Net>
using stack_for = typename stack_composition<Target, Net>::type;

}  // namespace uk
